/**
 * The heaviest and most hostile inputs of the fuzz suite, each one named and sent through every
 * trigger it can travel by, so none of them depends on a random draw: ≥ 256 KB bodies and fields,
 * 10k levels of nesting, prototype keys.
 */
import { expectPrototypeClean, expectSingleEventHandled, expectSqsBatchHandled } from '../support/fuzz/harness.ts';
import { type BadInput, DEEP, freshEventId, HUGE, type ValidInput, validInput } from '../support/fuzz/inputs.ts';
import fc from 'fast-check';

const deepArray = '['.repeat(DEEP) + ']'.repeat(DEEP);
const deepObject = '{"a":'.repeat(DEEP) + '1' + '}'.repeat(DEEP);
const huge = (char: string) => char.repeat(HUGE);

/** A risk event with `fields` (raw JSON text) on top of a valid one, as JSON text. */
function eventWith(fields: Record<string, string | undefined>, mentions: string[], mentionsOneOf: string[] = []): BadInput {
  const eventId = freshEventId('fz-heavy');
  const all: Record<string, string | undefined> = { eventId: JSON.stringify(eventId), accountId: '"desk-1"', symbol: '"BTCUSDT"', leverage: '5', ...fields };
  const entries = Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const keepsEventId = fields.eventId === undefined && !('eventId' in fields);
  return {
    text: `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`,
    json: true,
    mentions,
    mentionsOneOf,
    ...(keepsEventId ? { eventId } : {}),
  };
}

const notJson = (text: string): BadInput => ({ text, json: false, mentions: ['body is not valid JSON'], mentionsOneOf: [] });
const notObject = (text: string): BadInput => ({ text, json: true, mentions: ['event must be a JSON object'], mentionsOneOf: [] });

const cases: [string, () => BadInput][] = [
  ['a 256 KB body that is not JSON', () => notJson(huge('x'))],
  ['a 256 KB body cut off inside a string', () => notJson(`{"eventId":"${huge('a')}`)],
  ['10k unclosed brackets', () => notJson('['.repeat(DEEP))],
  ['a 256 KB JSON string', () => notObject(JSON.stringify(huge('s')))],
  ['an array nested 10k levels', () => notObject(deepArray)],
  ['an array of 10k events', () => notObject(JSON.stringify(Array.from({ length: DEEP }, (_, n) => ({ eventId: `e${n}`, symbol: 'BTCUSDT', leverage: 5 }))))],
  ['an object nested 10k levels', () => ({ ...notObject(deepObject), mentions: ['eventId: is required'], mentionsOneOf: ['a: unknown field'] })],
  ['a 256 KB eventId', () => eventWith({ eventId: JSON.stringify(huge('e')) }, ['eventId: must be at most 128 characters'])],
  ['a 256 KB symbol', () => eventWith({ symbol: JSON.stringify(huge('S')) }, ['symbol:'])],
  ['a 256 KB reason', () => eventWith({ reason: JSON.stringify(huge('r')) }, ['reason: must be at most 512 characters'])],
  ['a 256 KB issuedAt', () => eventWith({ issuedAt: JSON.stringify(`2026-11-25T10:00:00${huge('0')}Z`) }, ['issuedAt:'])],
  ['256 KB of metadata', () => eventWith({ metadata: JSON.stringify({ blob: huge('m') }) }, ['metadata: must serialise to at most 4096 bytes'])],
  ['a 256 KB unknown field name', () => eventWith({ [huge('k')]: '1' }, [], [`${'k'.repeat(64)}`])],
  ['a symbol nested 10k levels deep', () => eventWith({ symbol: deepArray }, ['symbol: must be a string'])],
  ['a leverage nested 10k levels deep', () => eventWith({ leverage: deepObject }, ['leverage: must be a number'])],
  ['targets nested 10k levels deep', () => eventWith({ symbol: undefined, leverage: undefined, targets: deepArray }, ['targets'])],
  ['an unknown field nested 10k levels deep', () => eventWith({ extra: deepObject }, [], ['extra: unknown field'])],
  ['metadata as an array nested 10k levels deep', () => eventWith({ metadata: deepArray }, ['metadata: must be a JSON object'])],
  ['"__proto__" polluting Object.prototype', () => eventWith({ ['__proto__']: '{"polluted":"yes"}' }, [], ['__proto__: unknown field'])],
  ['"constructor.prototype" polluting', () => eventWith({ constructor: '{"prototype":{"polluted":"yes"}}' }, [], ['constructor: unknown field'])],
  ['"prototype" as a field', () => eventWith({ prototype: '{"polluted":"yes"}' }, [], ['prototype: unknown field'])],
  ['"__proto__" inside metadata', () => eventWith({ leverage: '"5"', metadata: '{"__proto__":{"polluted":"yes"}}' }, ['leverage: must be a number'])],
  ['"__proto__" as the whole event', () => ({ ...eventWith({}, []), text: '{"__proto__":{"eventId":"x","symbol":"BTCUSDT","leverage":5,"polluted":"yes"}}', eventId: undefined, mentions: ['eventId: is required'], mentionsOneOf: ['__proto__: unknown field'] })],
];

describe.each(cases)('%s', (_name, input) => {
  test('SQS: REJECTED, and a valid record next to it is APPLIED', async () => {
    const [valid] = fc.sample(validInput, { numRuns: 1, seed: 1 }) as [ValidInput];
    const [next] = fc.sample(validInput, { numRuns: 1, seed: 2 }) as [ValidInput];
    await expectSqsBatchHandled([{ valid }, { bad: input() }, { valid: next }]);
  });

  test('EventBridge and direct: REJECTED, the invocation returns', async () => {
    const bad = input();
    if (!bad.json) return; // only SQS bodies can be something other than JSON
    await expectSingleEventHandled('eventBridge', bad);
    await expectSingleEventHandled('direct', input());
  });
});

// Regression: JSON.stringify throws RangeError on metadata nested thousands of levels deep; it
// must end as that record's rejection, never as the batch's crash.
test('metadata nested 10k levels deep is REJECTED like any other bad metadata', async () => {
  const [valid] = fc.sample(validInput, { numRuns: 1, seed: 1 }) as [ValidInput];
  const bad = () => eventWith({ metadata: deepObject }, ['metadata:']);
  await expectSqsBatchHandled([{ valid }, { bad: bad() }]);
  await expectSingleEventHandled('eventBridge', bad());
  await expectSingleEventHandled('direct', bad());
});

afterAll(() => {
  expectPrototypeClean();
});
