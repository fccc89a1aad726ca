// Integration tests drive the built bundle, as Lambda would run it. A missing or stale bundle
// would test old code, so refuse to run rather than pass on it (`npm test` builds first). The
// bundle runs on AWS's Lambda runtime pieces; without them nothing can run (`npm test` installs them).
// moto is imported once here, so that the suites' first moto servers (started in parallel by the
// workers, each with its own timeout) do not all pay for a cold first import on a fresh machine.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { locateRuntimePieces } from '../../local/lambda/runtime-pieces.ts';

const BUNDLE = 'dist/change-leverage/index.mjs';

function newestSource(dir: string): number {
  return Math.max(
    ...readdirSync(dir, { withFileTypes: true }).map((entry) => {
      const full = path.join(dir, entry.name);
      return entry.isDirectory() ? newestSource(full) : statSync(full).mtimeMs;
    }),
  );
}

function warmUpMoto(): void {
  const python = '.venv/bin/python';
  if (!existsSync(python)) return; // startMoto installs it (scripts/setup-python.sh) and says so if it cannot
  spawnSync(python, ['-c', 'import moto.server'], { env: { ...process.env, PYTHONPATH: path.resolve('local/aws/moto-patches') }, stdio: 'ignore', timeout: 120_000 });
}

export default function checkBundle(): void {
  locateRuntimePieces();
  warmUpMoto();
  let built: number;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    throw new Error(`${BUNDLE} is missing: run \`npm run build\` (or \`npm test\`, which builds first)`);
  }
  if (newestSource('functions') > built) {
    throw new Error(`${BUNDLE} is older than functions/: run \`npm run build\` (or \`npm test\`, which builds first)`);
  }
}
