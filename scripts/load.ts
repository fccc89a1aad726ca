// `npm run load [-- --events 5000 --weight-limit 1500 --pollers 1]`: N risk events through the
// local stack with the simulator enforcing a per-minute request-weight limit (tests/load/load-run.ts).
// Prints the report; exit code 1 when an event lacks exactly one outcome, any 429/418 happened, or
// anything landed in the DLQ; 2 on bad arguments.
import { parseArgs } from 'node:util';
import { ensureBundle } from '../local/run/bundle.ts';
import { formatReport, LOAD_DEFAULTS, problems, runLoad } from '../tests/load/load-run.ts';

const USAGE = `Usage: npm run load [-- options]

Sends N valid risk events (spread over 4 accounts x 11 symbols) through the local stack: SQS queue,
local poller(s) and RIE containers running the built bundle, Binance simulator, SNS topic. The
simulator enforces a request-weight limit per calendar minute; the function is told the same limit
(BINANCE_WEIGHT_LIMIT) and paces itself below it.

Options:
  --events <n>            events to send (default 5000)
  --weight-limit <n>      simulator weight limit per minute (default 1500; Binance's is 6000).
                          The local stack does about 25 events/s = 2100 weight/min unpaced on
                          a 2-core machine, so 6000 would never bind; at 1500 (budget 1350)
                          pacing holds requests back every minute
  --pollers <n>           concurrent pollers, one container each (default ${LOAD_DEFAULTS.pollers})
  --batch-size <n>        records per batch, 1-10 (default ${LOAD_DEFAULTS.batchSize})
  --reduce-only <share>   share of reduce-only events, 0-1 (default ${LOAD_DEFAULTS.reduceOnlyShare})
  --timeout <s>           give up waiting for outcomes after this long (default: 60 s per
                          expected minute of weight, plus 120 s)
  --help                  this text`;

function number(value: string | undefined, flag: string, min: number, max: number, integer = true): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < min || parsed > max) {
    console.error(`${flag} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(value)}\n\n${USAGE}`);
    process.exit(2);
  }
  return parsed;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      events: { type: 'string' },
      'weight-limit': { type: 'string' },
      pollers: { type: 'string' },
      'batch-size': { type: 'string' },
      'reduce-only': { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  }));
} catch (error) {
  console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const events = number(values.events, '--events', 1, 1_000_000) ?? 5000;
const weightLimit = number(values['weight-limit'], '--weight-limit', 1, 1_000_000) ?? 1500;
const pollers = number(values.pollers, '--pollers', 1, 20) ?? LOAD_DEFAULTS.pollers;
const batchSize = number(values['batch-size'], '--batch-size', 1, 10) ?? LOAD_DEFAULTS.batchSize;
const reduceOnlyShare = number(values['reduce-only'], '--reduce-only', 0, 1, false) ?? LOAD_DEFAULTS.reduceOnlyShare;
// Weight per event: 1 (change), 5-6 for a reduce-only one; at 90 % of the limit per minute.
const expectedMinutes = Math.ceil((events * (1 + 5 * reduceOnlyShare)) / Math.floor(weightLimit * 0.9));
const timeoutMs = (number(values.timeout, '--timeout', 1, 86_400) ?? expectedMinutes * 60 + 120) * 1000;

console.log(`bundle: ${ensureBundle()}`);
const report = await runLoad({
  ...LOAD_DEFAULTS,
  events,
  weightLimit,
  pollers,
  batchSize,
  reduceOnlyShare,
  timeoutMs,
  progress: (line) => console.log(`  ${line}`),
});
console.log(formatReport(report));
process.exit(problems(report).length === 0 ? 0 : 1);
