/**
 * Fuzz inputs: what a producer (or an attacker, or a bug upstream) might put where a risk event
 * belongs, each with what its INVALID_EVENT message must say. Built as JSON text, so keys such as
 * "__proto__" are real own keys (as JSON.parse, and so Lambda, makes them) and nesting can go
 * deeper than JSON.stringify could.
 */
import fc from 'fast-check';

export const ALLOWED_FIELDS = ['eventId', 'accountId', 'symbol', 'leverage', 'targets', 'symbols', 'mode', 'dryRun', 'issuedAt', 'reason', 'metadata'] as const;
type Field = (typeof ALLOWED_FIELDS)[number];

export const ACCOUNTS = ['default', 'desk-1', 'desk-2', 'desk-3'] as const;
export const HUGE = 256 * 1024;
export const DEEP = 10_000;

export interface BadInput {
  /** The producer's JSON text: an SQS body as sent, or decoded for EventBridge and direct invocations. */
  text: string;
  /** Whether `text` is JSON at all (EventBridge and direct invocations only carry JSON). */
  json: boolean;
  /** The INVALID_EVENT message must contain each of these… */
  mentions: string[];
  /** …and at least one of these (only the first unknown field is reported). */
  mentionsOneOf: string[];
  /** The body's own eventId, when it survives; otherwise the outcome falls back to the record id. */
  eventId?: string;
}

export interface ValidInput {
  text: string;
  eventId: string;
  /** One APPLIED outcome each. */
  targets: { symbol: string; leverage: number }[];
}

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

/** Any UTF-16 code unit, lone surrogates included (a string no UTF-8 encoder can encode as is). */
const utf16 = (maxLength: number) => fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)), maxLength });

const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const deepObject = (depth: number, key = 'a') => `{"${key}":`.repeat(depth) + '1' + '}'.repeat(depth);

/** Raw JSON texts of every type, extreme numbers written as producers might write them. */
const anyJsonText: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)) },
  { weight: 2, arbitrary: fc.constantFrom('1e308', '-1e308', '1e999', '-0', '0.0', '5e-324', '9007199254740993', '"NaN"', '"Infinity"', '"-0"', '"5"', 'true', 'null', '[]', '{}', '""', '"\\u0000"') },
  { weight: 1, arbitrary: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), utf16(40)).map((text) => JSON.stringify(text)) },
  { weight: 1, arbitrary: fc.constantFrom(deepArray(DEEP), deepObject(DEEP), JSON.stringify('x'.repeat(HUGE))) },
);

// ---------------------------------------------------------------------------------------------
// 1. Not JSON at all (SQS bodies only).

export const notJsonText: fc.Arbitrary<string> = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'grapheme', maxLength: 100 }),
    utf16(200),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('utf8')),
    fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    // A valid event cut short, or with garbage around it.
    fc.tuple(fc.nat(), fc.constantFrom('', '\uFEFF', 'x', ',', '}')).map(([cut, extra]) => {
      const full = '{"eventId":"evt","symbol":"BTCUSDT","leverage":5}';
      return extra === '\uFEFF' ? extra + full : full.slice(0, cut % full.length) + extra;
    }),
    fc.constantFrom(
      '',
      ' ',
      'undefined',
      'NaN',
      "{'eventId': 'single quotes'}",
      '{"eventId": "evt", "leverage": 5,}',
      '{"leverage": NaN}',
      '{"leverage": 0x10}',
      '{"leverage": +5}',
      '{"leverage": .5}',
      '{"symbol": "BTC\u0001USDT"}',
      deepArray(DEEP).slice(0, -1),
      '['.repeat(DEEP),
      'x'.repeat(HUGE),
      `{"eventId": "${'a'.repeat(HUGE)}`,
    ),
  )
  .filter((text) => !parses(text));

// ---------------------------------------------------------------------------------------------
// 2. JSON, but not an object.

export const notObjectText: fc.Arbitrary<string> = anyJsonText.filter((text) => !text.startsWith('{'));

// ---------------------------------------------------------------------------------------------
// 3. An object with fields gone wrong.

const validSymbol = fc.oneof(
  fc.constantFrom('BTCUSDT', 'ETHUSDT', '1000PEPEUSDT', 'BTCUSDT_261225'),
  fc.stringMatching(/^[A-Z0-9]{2,32}$/),
);

/** Values of the wrong JSON type, as text, given the types a field accepts. */
function wrongType(accepts: 'string' | 'number' | 'boolean' | 'object' | 'array'): fc.Arbitrary<string> {
  const byType = {
    string: fc.oneof(fc.oneof(fc.string({ maxLength: 20 }), utf16(20)).map((s) => JSON.stringify(s)), fc.constantFrom('""', '"5"', '"NaN"', '"-0"', `"${'z'.repeat(HUGE)}"`)),
    number: fc.oneof(fc.double().map((n) => (Number.isFinite(n) ? JSON.stringify(n) : '1e999')), fc.constantFrom('-0', '1e308', '1e999')),
    boolean: fc.constantFrom('true', 'false'),
    object: fc.oneof(fc.constantFrom('{}', '{"symbol":"BTCUSDT"}', deepObject(DEEP)), fc.object({ maxDepth: 1 }).map((o) => JSON.stringify(o))),
    array: fc.oneof(fc.constantFrom('[]', '[1,2]', '["BTCUSDT"]', deepArray(DEEP)), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }).map((a) => JSON.stringify(a))),
    null: fc.constant('null'),
  };
  return fc.oneof(...Object.entries(byType).filter(([type]) => type !== accepts).map(([, arbitrary]) => arbitrary));
}

const text = (values: readonly unknown[]) => fc.constantFrom(...values.map((value) => JSON.stringify(value)));

/** Wrong values for each field (always invalid, whatever else the event holds). */
const badValues: Record<Field, fc.Arbitrary<string>> = {
  eventId: fc.oneof(wrongType('string'), text(['', 'e'.repeat(129), 'e'.repeat(HUGE)])),
  accountId: fc.oneof(wrongType('string'), text(['', 'desk 1', 'désk-1', 'desk/1', 'a'.repeat(65), '__proto__!', 'desk-1\n'])),
  symbol: fc.oneof(
    wrongType('string'),
    text(['btcusdt', 'BtcUsdt', 'BTCUSDТ', 'ＢＴＣＵＳＤＴ', 'BTC-USDT', 'BTC USDT', 'BTCUSDT\u0000', 'B', 'A'.repeat(33), 'BTCUSDT_2612', 'BTCUSDT_', '', 'S'.repeat(HUGE)]),
    fc.stringMatching(/^[a-z]{2,12}$/).map((s) => JSON.stringify(s)),
    utf16(12).filter((s) => !/^[A-Z0-9]{2,32}(_[0-9]{6})?$/.test(s)).map((s) => JSON.stringify(s)),
  ),
  leverage: fc.oneof(
    wrongType('number'),
    fc.constantFrom('0', '-0', '-1', '126', '1e308', '-1e308', '1e999', '2.5', '5e-324', '9007199254740993', '1.0000001'),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !(Number.isInteger(n) && n >= 1 && n <= 125)).map((n) => JSON.stringify(n)),
  ),
  targets: fc.oneof(
    wrongType('array'),
    text([[], [{ symbol: 'btcusdt', leverage: 5 }], [{ symbol: 'BTCUSDT' }], [{ symbol: 'BTCUSDT', leverage: 5, extra: 1 }], [{ symbol: 'BTCUSDT', leverage: 5 }, { symbol: 'BTCUSDT', leverage: 4 }], ['BTCUSDT'], [null]]),
    fc.constant(JSON.stringify(Array.from({ length: 51 }, (_, n) => ({ symbol: `S${n}USDT`, leverage: 5 })))),
  ),
  symbols: fc.oneof(wrongType('string'), text(['ALL', 'all_open_positions', 'ALL_OPEN_POSITIONS ', '', '*'])),
  mode: fc.oneof(wrongType('string'), text(['SET', 'Reduce-Only', 'reduce_only', 'increase', ''])),
  dryRun: fc.oneof(wrongType('boolean'), text(['true', 'false', 1, 0])),
  issuedAt: fc.oneof(wrongType('string'), text(['', 'yesterday', '2026-02-30T10:00:00Z', '2026-13-01T00:00:00Z', '1764064800', `2026-11-25T10:00:00${'0'.repeat(HUGE)}Z`])),
  reason: fc.oneof(wrongType('string'), text(['r'.repeat(513), 'r'.repeat(HUGE)])),
  // Not nested deeper than JSON.stringify copes with: see the skipped BUG test.
  metadata: fc.oneof(
    fc.constantFrom('[]', '"note"', '5', 'null', 'true', '[{"a":1}]', deepArray(DEEP)),
    fc.constant(JSON.stringify({ blob: 'm'.repeat(4096) })),
    fc.constant(JSON.stringify({ blob: 'm'.repeat(HUGE) })),
    fc.constant(deepObject(1000)),
  ),
};

const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const unknownKey: fc.Arbitrary<string> = fc
  .oneof(
    fc.constantFrom(...PROTOTYPE_KEYS, 'Leverage', 'symbol ', 'SYMBOL', 'évent', 'leverage\u0000', '0', '', 'k'.repeat(HUGE)),
    fc.string({ minLength: 1, maxLength: 12 }),
  )
  .filter((key) => !(ALLOWED_FIELDS as readonly string[]).includes(key));

const protoValue = fc.constantFrom('{"polluted":"yes"}', '{"prototype":{"polluted":"yes"}}', '{"__proto__":{"polluted":"yes"}}', 'null', '1');

export interface FieldCorruption {
  field: Field;
  /** The bad value as JSON text, or undefined to remove the (required) field. */
  value?: string;
}

const REQUIRED: readonly Field[] = ['eventId', 'symbol', 'leverage'];

const corruption = (field: Field): fc.Arbitrary<FieldCorruption> =>
  REQUIRED.includes(field)
    ? fc.oneof({ weight: 4, arbitrary: badValues[field].map((value) => ({ field, value })) }, { weight: 1, arbitrary: fc.constant({ field }) })
    : badValues[field].map((value) => ({ field, value }));

/** A plausible event (before corruption), as field → JSON text. */
const baseEvent = fc.record(
  {
    accountId: fc.constantFrom(...ACCOUNTS),
    symbol: validSymbol,
    leverage: fc.integer({ min: 1, max: 125 }),
    reason: fc.string({ maxLength: 30 }),
    metadata: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
    mode: fc.constant('set'),
    dryRun: fc.constant(false),
  },
  { requiredKeys: ['symbol', 'leverage'] },
);

let ids = 0;
/** Unique per process, so every outcome names exactly one input. */
export const freshEventId = (prefix: string) => `${prefix}-${process.pid}-${++ids}`;

export const badFieldsInput: fc.Arbitrary<BadInput> = fc
  .record({
    base: baseEvent,
    corruptions: fc.uniqueArray(fc.constantFrom(...ALLOWED_FIELDS).chain(corruption), { minLength: 0, maxLength: 3, selector: (c) => c.field }),
    extraKeys: fc.uniqueArray(fc.tuple(unknownKey, fc.oneof(protoValue, anyJsonText)), { maxLength: 2, selector: ([key]) => key }),
    keyOrder: fc.boolean(),
  })
  .filter(({ corruptions, extraKeys }) => corruptions.length + extraKeys.length > 0)
  .map(({ base, corruptions: drawn, extraKeys, keyOrder }) => {
    const eventId = freshEventId('fz-bad');
    // targets replaces symbol + leverage, so it is corrupted alone among the three; with symbols
    // (ALL_OPEN_POSITIONS) an event has no symbol, so a missing one is not a mistake.
    const has = (field: Field) => drawn.some((c) => c.field === field);
    const corruptions = drawn.filter(
      (c) => !(has('targets') && (c.field === 'symbol' || c.field === 'leverage')) && !(has('symbols') && c.field === 'symbol' && c.value === undefined),
    );
    const fields = new Map<string, string>([['eventId', JSON.stringify(eventId)], ...Object.entries(base).map(([k, v]) => [k, JSON.stringify(v)] as [string, string])]);
    if (corruptions.some((c) => c.field === 'targets')) {
      fields.delete('symbol');
      fields.delete('leverage');
    }
    const mentions: string[] = [];
    for (const { field, value } of corruptions) {
      if (value === undefined) fields.delete(field);
      else fields.set(field, value);
      mentions.push(`${field}${field === 'targets' ? '' : ':'}`);
    }
    const entries = [...fields, ...extraKeys];
    if (keyOrder) entries.reverse();
    const survives = !corruptions.some((c) => c.field === 'eventId');
    return {
      text: `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`,
      json: true,
      mentions,
      mentionsOneOf: extraKeys.map(([key]) => `${key.slice(0, 64)}`),
      ...(survives ? { eventId } : {}),
    };
  });

// ---------------------------------------------------------------------------------------------

/** Every kind of bad input; `json` says whether it can travel as an EventBridge detail or a direct event. */
export const badInput: fc.Arbitrary<BadInput> = fc.oneof(
  { weight: 2, arbitrary: notJsonText.map((t) => ({ text: t, json: false, mentions: ['body is not valid JSON'], mentionsOneOf: [] })) },
  { weight: 2, arbitrary: notObjectText.map((t) => ({ text: t, json: true, mentions: ['event must be a JSON object'], mentionsOneOf: [] })) },
  { weight: 8, arbitrary: badFieldsInput },
);

export const badJsonInput: fc.Arbitrary<BadInput> = fc.oneof(
  { weight: 1, arbitrary: notObjectText.map((t) => ({ text: t, json: true, mentions: ['event must be a JSON object'], mentionsOneOf: [] })) },
  { weight: 4, arbitrary: badFieldsInput },
  // Any JSON object without an eventId (so certainly invalid).
  {
    weight: 1,
    arbitrary: fc
      .object({ maxDepth: 2 })
      .filter((o) => !Object.hasOwn(o, 'eventId'))
      .map((o) => ({ text: JSON.stringify(o), json: true, mentions: ['eventId: is required'], mentionsOneOf: [] })),
  },
);

const validTargets = fc.uniqueArray(fc.record({ symbol: validSymbol, leverage: fc.integer({ min: 1, max: 125 }) }), {
  minLength: 1,
  maxLength: 4,
  selector: (t) => t.symbol,
});

/** A valid event: the plain shape, or `targets` (one outcome per symbol). */
export const validInput: fc.Arbitrary<ValidInput> = fc.oneof(
  { weight: 3, arbitrary: baseEvent.map((base) => ({ fields: base as Record<string, unknown>, targets: [{ symbol: base.symbol, leverage: base.leverage }] })) },
  {
    weight: 1,
    arbitrary: fc.tuple(baseEvent, validTargets).map(([{ symbol: _symbol, leverage: _leverage, ...rest }, targets]) => ({ fields: { ...rest, targets }, targets })),
  },
).map(({ fields, targets }) => {
  const eventId = freshEventId('fz-ok');
  return { text: JSON.stringify({ eventId, ...fields }), eventId, targets };
});
