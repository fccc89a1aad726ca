// What the npm package ships besides the JSON Schemas (run by `npm pack` through prepack; the
// function itself is built by scripts/build.ts):
//   dist/contract/index.mjs   the producer helper (AWS SDK clients are the caller's: external)
//   dist/types/…              its type declarations, from tsc
//   dist/cli/leverage-guard.mjs  the CLI, self-contained, run by bin/leverage-guard.mjs
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const shared = { bundle: true, platform: 'node', target: 'node20', format: 'esm', legalComments: 'none', logLevel: 'warning' } as const;
// Bundled CommonJS dependencies (parts of the AWS SDK) call require() for Node built-ins.
const requireBanner = { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" };

rmSync('dist/contract', { recursive: true, force: true });
rmSync('dist/types', { recursive: true, force: true });
await build({ ...shared, entryPoints: ['functions/contract/index.ts'], outfile: 'dist/contract/index.mjs', external: ['@aws-sdk/*'] });
await build({ ...shared, minify: true, entryPoints: ['cli/leverage-guard.ts'], outfile: 'dist/cli/leverage-guard.mjs', banner: requireBanner });
execFileSync(
  'npx',
  ['tsc', 'functions/contract/index.ts', '--declaration', '--emitDeclarationOnly', '--outDir', 'dist/types', '--rootDir', '.',
    '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2023', '--strict', '--skipLibCheck',
    '--allowImportingTsExtensions', '--rewriteRelativeImportExtensions', '--resolveJsonModule', '--types', 'node'],
  { stdio: 'inherit' },
);
console.log('built dist/contract/index.mjs, dist/types/, dist/cli/leverage-guard.mjs');
