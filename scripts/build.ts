// Bundles each Lambda handler into one self-contained ESM file (AWS SDK clients included, so the
// function never depends on the SDK version the runtime happens to ship).
// Output: dist/<function>/index.mjs exporting `handler`. One build, used by tests, the local
// runner, benchmarks and `npm run package` alike.
import { build } from 'esbuild';
import { writeFile } from 'node:fs/promises';
import { LAMBDA_BUILD_OPTIONS } from './bundle-options.ts';

const functions = ['change-leverage'];

for (const name of functions) {
  const result = await build({
    ...LAMBDA_BUILD_OPTIONS,
    entryPoints: [`functions/${name}/index.ts`],
    outfile: `dist/${name}/index.mjs`,
    metafile: true,
  });
  await writeFile(`dist/${name}/meta.json`, JSON.stringify(result.metafile));
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
  console.log(`built dist/${name}/index.mjs (${(bytes / 1024).toFixed(0)} KiB)`);
}
