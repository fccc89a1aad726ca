// The README's tables are the contract people read: every error code the function can put in an
// outcome is in the error-code table, and the event-file example is a file `npm start` accepts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseEventFile } from '../../../local/run/event-file.ts';

const README = readFileSync('README.md', 'utf8');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}

/** String codes as the function creates them: `new XError('CODE'`, `code: 'CODE'`, `const code = … ? 'A' : 'B'`. */
function emittedCodes(): Set<string> {
  const codes = new Set<string>();
  for (const file of sources('functions')) {
    const text = readFileSync(file, 'utf8');
    for (const [, code] of text.matchAll(/new \w*(?:Error|Decision)\(\s*'([A-Z][A-Z0-9_]+)'/g)) codes.add(code!);
    for (const [, code] of text.matchAll(/\bcode: '([A-Z][A-Z0-9_]+)'/g)) codes.add(code!);
    for (const [, a, b] of text.matchAll(/const code = [^;?]*\? '([A-Z][A-Z0-9_]+)' : '([A-Z][A-Z0-9_]+)'/g)) codes.add(a!).add(b!);
    if (/`HTTP_\$\{/.test(text)) codes.add('HTTP_<status>');
  }
  return codes;
}

test('every error code the function emits is in the README\'s error-code table', () => {
  const table = README.slice(README.indexOf('Error codes:'), README.indexOf('## Delivery semantics'));
  const codes = [...emittedCodes()];
  expect(codes.length).toBeGreaterThan(20);
  expect(codes.filter((code) => !table.includes(`\`${code}\``))).toEqual([]);
});

test('the README\'s event-file example is an event file npm start accepts', () => {
  const [, json] = README.match(/\*\*Event files\*\*[\s\S]*?```json\n([\s\S]*?)```/) ?? [];
  const file = parseEventFile(JSON.parse(json!));
  expect(file.sqs).toHaveLength(2);
  expect(file.eventBridge.map((entry) => entry.detailType)).toEqual([undefined, 'DeleverageRequested']);
  expect(Object.keys(file.expect)).toContain('w1/SOLUSDT');
});
