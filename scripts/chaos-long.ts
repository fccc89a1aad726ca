/**
 * The chaos property of tests/chaos, for longer: a random seed (or --seed), as many runs as fit in
 * --minutes (default 10). Prints the seed first; on a failure fast-check prints the seed and path
 * to replay, and the run's account (invariants violated, invocations, outcomes, exchange writes).
 *
 *   npm run chaos:long                      10 minutes, random seed
 *   npm run chaos:long -- --minutes 60
 *   npm run chaos:long -- --seed 123 --path "4:2"   replay one failure
 *   npm run chaos:long -- --strict          known bugs (KNOWN_BUGS in invariants.ts) fail too
 */
import '../tests/support/chaos/quiet-logs.ts';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { startBinanceSimulator } from '../local/binance-simulator/index.ts';
import { nothingIsLostProperty } from '../tests/support/chaos/property.ts';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    seed: { type: 'string' },
    path: { type: 'string' },
    strict: { type: 'boolean', default: false },
  },
});
const minutes = Number(values.minutes);
if (!Number.isFinite(minutes) || minutes <= 0) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);

console.log(`chaos:long seed ${seed}, up to ${minutes} min${values.path ? `, path ${values.path}` : ''}${values.strict ? ', known bugs not tolerated' : ''}`);
const sim = await startBinanceSimulator();
let runs = 0;
const startedAt = Date.now();
const progress = setInterval(() => {
  console.log(`  ${runs} runs, ${((Date.now() - startedAt) / 60_000).toFixed(1)} min`);
}, 60_000);
try {
  await fc.assert(
    nothingIsLostProperty(sim, { invariants: { tolerateKnownBugs: !values.strict } }).beforeEach((previous) => {
      runs += 1;
      return previous();
    }),
    {
      seed,
      ...(values.path === undefined ? {} : { path: values.path }),
      numRuns: Number.MAX_SAFE_INTEGER,
      interruptAfterTimeLimit: minutes * 60_000,
      markInterruptAsFailure: false,
      reporter: (details) => {
        if (!details.failed) return;
        const cause = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
        throw new Error(`${fc.defaultReportMessage(details)}\n\n${cause}`);
      },
    },
  );
  console.log(`chaos:long passed: ${runs} runs in ${((Date.now() - startedAt) / 60_000).toFixed(1)} min, seed ${seed}`);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  clearInterval(progress);
  await sim.close();
}
