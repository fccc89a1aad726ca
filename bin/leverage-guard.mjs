#!/usr/bin/env node
// The `leverage-guard` command. In a checkout it runs the TypeScript source through tsx, so it is
// never a stale build; the packed package ships no TypeScript and runs the bundle that
// `npm pack` builds (scripts/build-package.ts).
import { existsSync } from 'node:fs';

const source = new URL('../cli/leverage-guard.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/leverage-guard.mjs');
}
