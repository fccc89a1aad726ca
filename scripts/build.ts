// Bundles each Lambda handler into one self-contained ESM file (AWS SDK clients included, so the
// function never depends on the SDK version the runtime happens to ship).
// Output: dist/<function>/index.mjs exporting `handler`. One build, used by tests, the local
// runner, benchmarks and `npm run package` alike.
import { build } from 'esbuild';
import { writeFile } from 'node:fs/promises';

const functions = ['change-leverage'];

for (const name of functions) {
  const result = await build({
    entryPoints: [`functions/${name}/index.ts`],
    outfile: `dist/${name}/index.mjs`,
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
    metafile: true,
    logLevel: 'warning',
  });
  await writeFile(`dist/${name}/meta.json`, JSON.stringify(result.metafile));
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
  console.log(`built dist/${name}/index.mjs (${(bytes / 1024).toFixed(0)} KiB)`);
}
