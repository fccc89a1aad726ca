/**
 * Attributes `perf record -g` samples of a function container (bench/profile/cpu-profile.ts
 * --perf) to source modules: each sample goes to its innermost JavaScript frame, mapped through
 * the bundle's source map; samples without one (compiler and GC threads, the event loop) are
 * grouped by thread and native symbol. With a second profile of the same container running
 * fewer batches, prints the difference: the cost of the extra batches alone.
 *   npx tsx bench/profile/perf-attribute.ts <perf.data> [<baseline perf.data>] [--records N] [--bundle path]
 * e.g. the cost of batches 2 to 41 of a container:
 *   npx tsx bench/profile/cpu-profile.ts --rounds 1 --warmup 1 --batches 40 --perf /tmp/40.data
 *   npx tsx bench/profile/cpu-profile.ts --rounds 1 --warmup 1 --batches 1 --perf /tmp/1.data
 *   npx tsx bench/profile/perf-attribute.ts /tmp/40.data /tmp/1.data --records 390
 * Background threads (V8's concurrent compiler and marker) appear as the main thread's name: their
 * samples have no JavaScript frame and show as compiling or GC.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import path from 'node:path';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => (args.includes(name) ? args[args.indexOf(name) + 1]! : fallback);
const files = args.filter((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const records = Number(option('--records', '1'));
const bundle = path.resolve(option('--bundle', 'dist/change-leverage/index.mjs'));
const map = new SourceMap(JSON.parse(readFileSync(`${bundle}.map`, 'utf8')));
const FREQUENCY = 2999;

function moduleOf(url: string, line: number, column: number): string {
  if (url.endsWith(bundle)) {
    const source = (map.findEntry(line - 1, column - 1) as { originalSource?: string }).originalSource ?? 'bundle?';
    const npm = source.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
    return npm ? `npm:${npm[1]}` : source.replace(/^.*\/functions\//, 'functions/');
  }
  if (url.startsWith('node:')) return url;
  return url || '?';
}

function attribute(file: string): Map<string, number> {
  const text = execFileSync('perf', ['script', '-i', file, '-F', 'comm,tid,ip,sym'], { maxBuffer: 1 << 30, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const groups = new Map<string, number>();
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n').filter(Boolean);
    if (lines.length === 0) continue;
    const [comm = ''] = lines[0]!.trim().split(/\s+/);
    const frames = lines.slice(1).map((l) => l.trim().replace(/^[0-9a-f]+\s+/, ''));
    let group: string | undefined;
    for (const frame of frames) {
      const js = frame.match(/^JS:[*~^+-]?(\S*) (.+):(\d+):(\d+)$/);
      if (js) {
        group = moduleOf(js[2]!, Number(js[3]), Number(js[4]));
        break;
      }
    }
    if (!group) {
      const top = frames[0] ?? '';
      if (comm !== 'node') group = `(thread ${comm})`;
      else if (/compiler|Compile|Parser|Scanner|turboshaft|maglev/i.test(top)) group = '(no JS frame: V8 compiling, any thread)';
      else if (/Scavenge|Mark|Sweep|Heap/.test(top)) group = '(no JS frame: GC, any thread)';
      else if (frames.some((f) => f.includes('kallsyms'))) group = '(no JS frame: kernel)';
      else group = '(no JS frame: other native, e.g. event loop, http parser)';
    }
    groups.set(group, (groups.get(group) ?? 0) + 1);
  }
  return groups;
}

const [measured = '', baseline] = files;
const a = attribute(measured);
const b = baseline ? attribute(baseline) : new Map<string, number>();
const rows = [...new Set([...a.keys(), ...b.keys()])].map((k) => [k, ((a.get(k) ?? 0) - (b.get(k) ?? 0)) / FREQUENCY / records] as const);
const total = rows.reduce((sum, [, s]) => sum + s, 0);
console.log(`CPU by innermost JS frame's module, ms per record (${records} records${baseline ? ', difference of two runs' : ''}); total ${(total * 1000).toFixed(3)}`);
for (const [k, s] of rows.sort((x, y) => y[1] - x[1]).slice(0, 40)) console.log(`${(s * 1000).toFixed(3).padStart(8)}  ${((100 * s) / total).toFixed(1).padStart(5)}%  ${k}`);
