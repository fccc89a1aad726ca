/**
 * The chaos properties of tests/chaos, for longer: a random seed (or --seed), as many runs as fit in
 * --minutes (default 10). Prints the seed first; on a failure fast-check prints the seed and path
 * to replay, and the run's account (invariants violated, invocations, outcomes, exchange writes).
 */
import '../tests/support/chaos/quiet-logs.ts';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { startBinanceSimulator } from '../local/binance-simulator/index.ts';
import { MODEL_INVARIANTS, type ModelInvariant } from '../tests/support/chaos/model-invariants.ts';
import { modelConcurrencyProperty } from '../tests/support/chaos/model-property.ts';
import { nothingIsLostProperty } from '../tests/support/chaos/property.ts';

const USAGE = `Usage: npm run chaos:long -- [options]

Runs a chaos property with a random seed until the time is up or it fails.

  (default)              nothing-is-lost: one container, random faults, against the Binance simulator
  --model                model-based concurrency: 2-3 containers, a person in the UI, time passing,
                         key rotation, AWS failures (tests/support/chaos/model-invariants.ts)
  --minutes <n>          how long to run (default 10)
  --runs <n>             stop after this many runs instead (default: no limit)
  --seed <n>             replay with this seed (printed by every run)
  --path <p>             with --seed: replay exactly the failing case fast-check printed
  --invariant <name>     with --model: check only this invariant (repeatable), to find a
                         counterexample for each one: ${MODEL_INVARIANTS.join(', ')}
  -h, --help             this text

Examples:
  npm run chaos:long -- --minutes 60
  npm run chaos:long -- --model --invariant reduceOnlyNeverRaises
  npm run chaos:long -- --model --seed 123 --path "4:2"`;

function options() {
  try {
    return parseArgs({
      options: {
        help: { type: 'boolean', short: 'h', default: false },
        model: { type: 'boolean', default: false },
        minutes: { type: 'string', default: '10' },
        runs: { type: 'string' },
        seed: { type: 'string' },
        path: { type: 'string' },
        invariant: { type: 'string', multiple: true },
      },
    }).values;
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
}

function positive(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    console.error(`--${name} must be a positive number, got ${raw}\n\n${USAGE}`);
    process.exit(2);
  }
  return value;
}

const values = options();
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const minutes = positive('minutes', values.minutes)!;
const maxRuns = positive('runs', values.runs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);
const invariants = (values.invariant ?? []) as ModelInvariant[];
const unknown = invariants.filter((name) => !MODEL_INVARIANTS.includes(name));
if (unknown.length > 0) {
  console.error(`unknown invariant(s) ${unknown.join(', ')}\n\n${USAGE}`);
  process.exit(2);
}

const what = values.model ? `model${invariants.length ? ` [${invariants.join(', ')}]` : ''}` : 'nothing-is-lost';
console.log(`chaos:long ${what}, seed ${seed}, up to ${minutes} min${maxRuns ? ` or ${maxRuns} runs` : ''}${values.path ? `, path ${values.path}` : ''}`);
const sim = values.model ? undefined : await startBinanceSimulator();
let runs = 0;
const startedAt = Date.now();
const progress = setInterval(() => {
  console.log(`  ${runs} runs, ${((Date.now() - startedAt) / 60_000).toFixed(1)} min`);
}, 60_000);

/** Runs one property (its own value types) until the time or the run count is up, or it fails. */
async function runUntilFailure<Ts extends [unknown, ...unknown[]]>(property: fc.IAsyncPropertyWithHooks<Ts>): Promise<void> {
  await fc.assert(
    property.beforeEach((previous) => {
      runs += 1;
      return previous();
    }),
    {
      seed,
      ...(values.path === undefined ? {} : { path: values.path }),
      numRuns: maxRuns ?? Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: minutes * 60_000,
      markInterruptAsFailure: false,
      reporter: (details) => {
        if (!details.failed) return;
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        throw new Error(`${fc.defaultReportMessage(details)}\n\n${cause}`);
      },
    },
  );
}

try {
  if (sim) await runUntilFailure(nothingIsLostProperty(sim));
  else await runUntilFailure(modelConcurrencyProperty(invariants.length ? { invariants } : {}));
  console.log(`chaos:long passed: ${runs} runs in ${((Date.now() - startedAt) / 60_000).toFixed(1)} min, seed ${seed}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  clearInterval(progress);
  await sim?.close();
}
