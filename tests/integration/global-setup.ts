// Integration tests drive the built bundle, as Lambda would run it. A missing or stale bundle
// would test old code, so refuse to run rather than pass on it (`npm test` builds first). The
// bundle runs on AWS's Lambda runtime pieces; without them nothing can run (`npm test` installs them).
import { readdirSync, statSync } from 'node:fs';
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

export default function checkBundle(): void {
  locateRuntimePieces();
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
