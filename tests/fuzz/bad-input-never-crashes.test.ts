/**
 * Fuzz: bad input never crashes the batch. Arbitrary bodies (not JSON, invalid UTF-8/UTF-16,
 * ≥ 256 KB, 10k levels deep, wrong types in every field, prototype keys, unicode and lowercase
 * symbols, extreme numbers, arrays for objects) as SQS records, EventBridge details and direct
 * events, through the REAL handler with a fake exchange. Each bad record gets exactly one REJECTED
 * INVALID_EVENT outcome whose message says what is wrong; valid records in the same batch are
 * still APPLIED; the invocation completes; Object.prototype stays clean.
 */
import fc from 'fast-check';
import { expectSingleEventHandled, expectSqsBatchHandled, sqsBatch } from '../support/fuzz/harness.ts';
import { badJsonInput } from '../support/fuzz/inputs.ts';

const SEED = 1_764_064_800;
const RUNS = { sqs: 3000, eventBridge: 3500, direct: 3500 };

test(`SQS: every bad body is REJECTED once, valid ones APPLIED, nothing handed back (${RUNS.sqs} batches, seed ${SEED})`, async () => {
  await fc.assert(fc.asyncProperty(sqsBatch, expectSqsBatchHandled), { seed: SEED, numRuns: RUNS.sqs });
}, 60_000);

test(`EventBridge: a bad detail is REJECTED and the invocation returns (${RUNS.eventBridge} events, seed ${SEED})`, async () => {
  await fc.assert(fc.asyncProperty(badJsonInput, (input) => expectSingleEventHandled('eventBridge', input)), { seed: SEED, numRuns: RUNS.eventBridge });
}, 60_000);

test(`direct: any bad JSON value is REJECTED and the invocation returns (${RUNS.direct} events, seed ${SEED})`, async () => {
  await fc.assert(fc.asyncProperty(badJsonInput, (input) => expectSingleEventHandled('direct', input)), { seed: SEED, numRuns: RUNS.direct });
}, 60_000);
