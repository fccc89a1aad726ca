// `npm start` runs the built bundle, as Lambda would; build it first when it is missing or older
// than functions/, so `npm ci && npm start` works on a fresh clone and never runs stale code.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { BUNDLE_PATH } from '../stack.ts';

const SOURCES = 'functions';

function newestMtime(dir: string): number {
  let newest = statSync(dir).mtimeMs;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/** Why the bundle needs building, or undefined when it is up to date. */
export function staleBundleReason(): string | undefined {
  let built: number;
  try {
    built = statSync(BUNDLE_PATH).mtimeMs;
  } catch {
    return 'missing';
  }
  return newestMtime(SOURCES) > built ? `older than ${SOURCES}/` : undefined;
}

/** Builds with `npm run build` (scripts/build.ts, the one build) when needed; returns what it did. */
export function ensureBundle(): string {
  const reason = staleBundleReason();
  if (!reason) return `${BUNDLE_PATH} (up to date)`;
  const build = spawnSync('npm', ['run', '--silent', 'build'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (build.status !== 0) {
    throw new Error(`npm run build failed (exit ${build.status}):\n${build.stdout}${build.stderr}`);
  }
  return `${BUNDLE_PATH} (built: was ${reason})`;
}
