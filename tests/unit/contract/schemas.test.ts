// The JSON Schemas under schemas/ are the contract producers and subscribers in any language
// validate against. They must be exactly what `npm run schemas` generates from the code, and must
// agree with the code: the schema accepts an event exactly when validateRiskEvent does (apart from
// the rules JSON Schema cannot express, which the schema names in descriptions), and every outcome
// the code builds validates against the outcome schema.
import { Ajv2020 } from 'ajv/dist/2020.js';
import ajvFormats from 'ajv-formats';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PermanentError, RetryableError, SkipDecision } from '../../../functions/domain/errors.ts';
import { invalidEventOutcome, type Outcome, type OutcomeContext, outcomeOf, type Verdict } from '../../../functions/domain/outcome.ts';
import { type RiskCommand, validateRiskEvent } from '../../../functions/domain/risk-event.ts';
import { generatedSchemaFiles, SCHEMA_DIR } from '../../../scripts/json-schemas.ts';

const committed = (name: string): string => readFileSync(path.join(SCHEMA_DIR, name), 'utf8');

function compile(name: string) {
  // strictRequired is ajv's own lint, not the standard: the shapes' `required` lists name
  // properties defined at the top level, which it cannot see from inside oneOf.
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  // ajv-formats is CommonJS whose module.exports is the plugin and also carries it as .default.
  ajvFormats.default(ajv);
  return ajv.compile(JSON.parse(committed(name)));
}

describe('schemas/ is what the code generates', () => {
  test.each(Object.entries(generatedSchemaFiles()))('%s matches `npm run schemas` output', (name, generated) => {
    // Fails after a change to the valibot schemas until `npm run schemas` is run and committed.
    expect(committed(name)).toBe(generated);
  });

  test('both are valid Draft 2020-12 schemas (strict mode: no unknown keywords)', () => {
    expect(() => compile('risk-event.schema.json')).not.toThrow();
    expect(() => compile('outcome.schema.json')).not.toThrow();
    expect(JSON.parse(committed('risk-event.schema.json')).$schema).toBe('https://json-schema.org/draft/2020-12/schema');
  });
});

describe('the risk-event schema accepts exactly what the function accepts', () => {
  const validate = compile('risk-event.schema.json');
  const long = (n: number) => 'x'.repeat(n);
  const manyTargets = Array.from({ length: 51 }, (_, i) => ({ symbol: `S${i}USDT`, leverage: 2 }));
  // Each field is absent, valid, or wrong in one of the ways producers get it wrong.
  const field = {
    eventId: ['risk-1', '', long(128), long(129), 5],
    accountId: ['desk-1', 'a.b_c-d', 'bad account', long(65), 7],
    symbol: ['BTCUSDT', '1000PEPEUSDT', 'BTCUSDT_261225', 'btcusdt', 'B', 'BTCUSDT_2612', 3],
    leverage: [1, 5, 125, 0, 126, 2.5, '5', -3],
    targets: [
      [{ symbol: 'BTCUSDT', leverage: 5 }],
      [{ symbol: 'BTCUSDT', leverage: 5 }, { symbol: 'ETHUSDT', leverage: 3 }],
      [],
      manyTargets,
      manyTargets.slice(0, 50),
      [{ symbol: 'ETHUSDT', leverage: 5, extra: 1 }],
      [{ symbol: 'ETHUSDT' }],
      { symbol: 'ETHUSDT', leverage: 5 },
    ],
    symbols: ['ALL_OPEN_POSITIONS', 'ALL', ['BTCUSDT']],
    mode: ['set', 'reduce-only', 'REDUCE', 1],
    dryRun: [true, false, 'true'],
    issuedAt: [
      '2026-11-25T10:00:00Z', '2026-11-25T10:00:00.123Z', '2026-11-25T10:00:00+01:00', '2026-11-25 10:00:00Z',
      '2026-11-25t10:00:00z', '2026-11-25T10:00:00', '2026-11-25', '2026-02-30T00:00:00Z', '2024-02-29T00:00:00Z',
      '2026-11-25T24:00:00Z', 1764064800000,
    ],
    reason: ['VaR limit', long(512), long(513), 42],
    metadata: [{ rule: 'r1' }, {}, [], 'text', null],
    levrage: [5],
  };
  const event = fc.record(
    Object.fromEntries(Object.entries(field).map(([name, values]) => [name, fc.constantFrom(...(values as unknown[]))])),
    { requiredKeys: [] },
  );
  // Biased towards the valid shapes, so acceptance is exercised as much as rejection.
  const likelyValid = fc.oneof(
    fc.record({ eventId: fc.constant('e'), symbol: fc.constantFrom(...field.symbol), leverage: fc.constantFrom(...field.leverage), issuedAt: fc.constantFrom(...field.issuedAt) }, { requiredKeys: ['eventId', 'symbol', 'leverage'] }),
    fc.record({ eventId: fc.constant('e'), targets: fc.constantFrom(...field.targets), mode: fc.constantFrom(...field.mode) }, { requiredKeys: ['eventId', 'targets'] }),
    fc.record({ eventId: fc.constant('e'), symbols: fc.constantFrom(...field.symbols), leverage: fc.constantFrom(...field.leverage), mode: fc.constantFrom(...field.mode) }, { requiredKeys: ['eventId', 'symbols', 'leverage'] }),
  );

  test('on events built from valid and wrong fields (fast-check, fixed seed)', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(event, likelyValid), (candidate) => {
        const byCode = validateRiskEvent(candidate);
        if (byCode.ok) accepted++;
        const message = byCode.ok ? 'accepted by the function' : byCode.message;
        expect({ schema: validate(candidate), message }).toEqual({ schema: byCode.ok, message });
      }),
      { seed: 11, numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  test.each([null, [], 'text', 5, true])('a non-object (%p) is rejected by both', (candidate) => {
    expect(validate(candidate)).toBe(false);
    expect(validateRiskEvent(candidate).ok).toBe(false);
  });

  test('the rules JSON Schema cannot express are named in the schema, and enforced by the function', () => {
    const text = committed('risk-event.schema.json');
    const twice = { eventId: 'e', targets: [{ symbol: 'BTCUSDT', leverage: 5 }, { symbol: 'BTCUSDT', leverage: 3 }] };
    const huge = { eventId: 'e', symbol: 'BTCUSDT', leverage: 5, metadata: { blob: long(5000) } };
    for (const [candidate, rule] of [[twice, 'must not name a symbol twice'], [huge, 'must serialise to at most 4096 bytes']] as const) {
      expect(text).toContain(`Also checked by leverage-guard: ${rule}.`);
      expect(validate(candidate)).toBe(true);
      expect(validateRiskEvent(candidate)).toMatchObject({ ok: false, message: expect.stringContaining(rule) });
    }
  });
});

describe('every outcome the code builds validates against the outcome schema', () => {
  const validate = compile('outcome.schema.json');
  const context: OutcomeContext = { recordId: 'msg-1', trigger: 'eventbridge', startedAt: 1_764_064_800_000, now: 1_764_064_800_120 };
  const full: RiskCommand = {
    eventId: 'risk-1', accountId: 'desk-2', scope: { kind: 'targets', targets: [{ symbol: 'BTCUSDT', leverage: 5 }] },
    mode: 'reduce-only', dryRun: false, issuedAt: '2026-11-25T10:00:00Z', reason: 'VaR', metadata: { rule: 'r1' },
  };
  const allOpen: RiskCommand = { ...full, scope: { kind: 'all-open-positions', leverage: 3 } };
  const target = { symbol: 'BTCUSDT', leverage: 5 };
  const verdicts: Verdict[] = [
    { status: 'APPLIED', leverage: 5, maxNotionalValue: '1000000', currentLeverage: 20 },
    { status: 'DRY_RUN', leverage: 5, currentLeverage: 20 },
    { status: 'SKIPPED', error: new SkipDecision('NOT_A_REDUCTION', 'not a reduction', 3), currentLeverage: 3 },
    { status: 'REJECTED', error: new PermanentError(-4028, 'Binance -4028: Leverage 200 is not valid') },
    { status: 'FAILED', error: new RetryableError('TIMEOUT', 'timed out') },
  ];
  const outcomes: [string, Outcome][] = [
    ...verdicts.map((verdict): [string, Outcome] => [verdict.status, outcomeOf(full, target, verdict, context)]),
    ['SKIPPED without a symbol (no open positions)', outcomeOf(allOpen, undefined, { status: 'SKIPPED', error: new SkipDecision('NO_OPEN_POSITIONS', 'none') }, context)],
    ['REJECTED invalid event', invalidEventOutcome({ requestedLeverage: 2.5 }, 'leverage: must be a whole number', context)],
  ];

  test.each(outcomes)('%s', (_name, outcome) => {
    const wire = JSON.parse(JSON.stringify(outcome)) as Record<string, unknown>;
    expect(validate(wire) ? [] : validate.errors).toEqual([]);
  });

  test('the schema names every field an outcome can carry', () => {
    const properties = Object.keys(JSON.parse(committed('outcome.schema.json')).properties as object);
    const carried = new Set(outcomes.flatMap(([, outcome]) => Object.keys(JSON.parse(JSON.stringify(outcome)) as object)));
    expect([...carried].filter((name) => !properties.includes(name))).toEqual([]);
  });
});
