// The esbuild options of the function bundle: one definition, used by `npm run build` and by the
// benchmark's SDK-only bundle, so the two are always built alike.
import type { BuildOptions } from 'esbuild';

export const LAMBDA_BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  minify: true,
  sourcemap: 'linked',
  sourcesContent: false,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  // Bundled CommonJS dependencies (parts of the AWS SDK) call require() for Node built-ins.
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  legalComments: 'none',
  logLevel: 'warning',
};
