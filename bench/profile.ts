/**
 * Where a warm container's CPU goes: reads the V8 CPU profile written by the batch child (the
 * `.cpuprofile` format of `node --cpu-prof`; open it in Chrome DevTools or speedscope for the
 * flame graph), maps every frame of the minified bundle back to its source module through the
 * bundle's source map (node:module's SourceMap, no dependency), and sums self time by category
 * (signing, JSON, logging, validation, http, SDK middleware, …) and by function.
 */
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileShare {
  name: string;
  ms: number;
  /** Share of the profile's busy time (idle excluded). */
  share: number;
}

export interface ProfileSummary {
  path: string;
  /** CPU time the profile covers, idle excluded, ms. */
  busyMs: number;
  records: number;
  /** Self time by category of the frame itself. */
  byCategory: ProfileShare[];
  /**
   * Self time by the function's own module that is nearest on the stack: Node internals and
   * native code (crypto, sockets, JSON) counted for the bundle module that called them.
   */
  byOwner: ProfileShare[];
  /** The functions with the most self time (bundle frames named from the source map). */
  topFunctions: ProfileShare[];
}

/** First match wins; tested against the module (npm package or source path) or the Node URL. */
const CATEGORIES: Array<[string, RegExp]> = [
  ['AWS SigV4 signing', /^@smithy\/signature-v4|^@aws-sdk\/signature-v4|^@aws-crypto\//],
  ['AWS SDK http handler', /^@smithy\/node-http-handler/],
  ['AWS SDK: middleware, serde, retry, credentials', /^@aws-sdk\/|^@smithy\/|^@aws\/lambda-invoke-store|^bowser/],
  ['logging (Powertools logger, redaction)', /^@aws-lambda-powertools\/(logger|commons)|^functions\/change-leverage\/(logger|redact)\.ts/],
  ['metrics (Powertools metrics)', /^@aws-lambda-powertools\/metrics|^functions\/change-leverage\/metrics\.ts/],
  ['validation (valibot)', /^valibot/],
  ['middy', /^@middy\//],
  ['exchange client (Binance)', /^functions\/adapters\/(binance|http)\//],
  ['state table + pause switch adapters', /^functions\/adapters\/(dynamodb|ssm|aws-json)\//],
  ['other adapters (SNS, credentials, caches)', /^functions\/adapters\//],
  ['domain (functions/domain)', /^functions\/domain\//],
  ['handler and wiring (functions/change-leverage)', /^functions\//],
  ['JSON.parse / JSON.stringify', /^\(native\) (parse|stringify)$/],
  ['node:crypto (HMAC, hashes)', /^node:internal\/crypto|^node:crypto/],
  ['node:http, net, streams (sockets)', /^node:(_http|http|https|net|tls|stream|internal\/(http|streams|net|stream_base|js_stream)|internal\/deps\/undici)/],
  ['Node timers, events, microtasks', /^node:(timers|events|internal\/(timers|process\/task_queues|event_target|async_hooks))/],
  ['Node URL, buffers, util', /^node:(url|buffer|util|internal\/(url|buffer|util|querystring|errors))/],
  ['benchmark harness (not the function)', /\/bench\/\.build\//],
  ['garbage collection', /^\(garbage collector\)$/],
  ['V8 and runtime (program)', /^\(program\)$/],
  ['other Node internals', /^node:/],
];
const OTHER = 'other (native, unattributed)';
const IDLE = new Set(['(idle)', '(root)']);

export function analyseProfile(profilePath: string, bundlePath: string, records: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(profilePath, 'utf8')) as CpuProfile;
  const bundleUrl = pathToFileURL(bundlePath).href;
  const sourceMap = new SourceMap(JSON.parse(readFileSync(`${bundlePath}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));

  /** module (package or source path) and readable name of a frame, or undefined when native. */
  const frame = new Map<number, { module: string; name: string } | undefined>();
  for (const node of profile.nodes) {
    const { url, functionName, lineNumber, columnNumber } = node.callFrame;
    if (url === bundleUrl) {
      const entry = sourceMap.findEntry(lineNumber, columnNumber) as { originalSource?: string; originalLine?: number; name?: string };
      const module = entry.originalSource ? moduleOf(entry.originalSource) : 'bundle (unmapped)';
      const name = `${entry.name ?? (functionName || '(anonymous)')} (${shortSource(entry.originalSource)}:${(entry.originalLine ?? 0) + 1})`;
      frame.set(node.id, { module, name });
    } else if (url) {
      frame.set(node.id, { module: url, name: `${functionName || '(anonymous)'} (${url})` });
    } else if (functionName.startsWith('(')) {
      frame.set(node.id, { module: functionName, name: functionName });
    } else frame.set(node.id, { module: `(native) ${functionName}`, name: `${functionName} (native)` });
  }

  const categoryOf = (id: number): string => {
    const own = frame.get(id);
    const hit = own && CATEGORIES.find(([, pattern]) => pattern.test(own.module));
    if (hit) return hit[0];
    // Other native frames (a binding's method, a regexp) belong with whoever called them.
    const up = parent.get(id);
    return up === undefined ? OTHER : categoryOf(up);
  };
  const ownerOf = (id: number): string => {
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const module = frame.get(at)?.module ?? '';
      if (!module.startsWith('node:') && !module.startsWith('(')) return CATEGORIES.find(([, p]) => p.test(module))?.[0] ?? module;
    }
    return categoryOf(id);
  };

  const selfMs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0) / 1000));
  const categories = new Map<string, number>();
  const owners = new Map<string, number>();
  const functions = new Map<string, number>();
  let busyMs = 0;
  for (const [id, ms] of selfMs) {
    const node = byId.get(id)!;
    if (IDLE.has(node.callFrame.functionName)) continue;
    busyMs += ms;
    const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + ms);
    add(categories, categoryOf(id));
    add(owners, ownerOf(id));
    add(functions, frame.get(id)?.name ?? '?');
  }
  const shares = (map: Map<string, number>, limit: number) =>
    [...map].sort((a, b) => b[1] - a[1]).slice(0, limit).map(([name, ms]) => ({ name, ms, share: ms / busyMs }));
  return { path: profilePath, busyMs, records, byCategory: shares(categories, 30), byOwner: shares(owners, 30), topFunctions: shares(functions, 20) };
}

/** The npm package (scoped or not) of a bundled source, or its path in the repository. */
function moduleOf(source: string): string {
  const at = source.lastIndexOf('node_modules/');
  if (at >= 0) {
    const parts = source.slice(at + 'node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  return source.replace(/^(\.\.\/)+/, '').replace(/^.*?(?=functions\/)/, '');
}

function shortSource(source: string | undefined): string {
  if (!source) return '?';
  const at = source.lastIndexOf('node_modules/');
  return at >= 0 ? source.slice(at + 'node_modules/'.length) : moduleOf(source);
}
