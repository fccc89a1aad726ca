import fc from 'fast-check';
import {
  ALL_OPEN_POSITIONS,
  DEFAULT_ACCOUNT_ID,
  MAX_REPORTED_PROBLEMS,
  parseIssuedAt,
  parseJsonBody,
  type RiskCommand,
  validateRiskEvent,
  type Validation,
} from '../../../functions/domain/risk-event.ts';

const VALID = { eventId: 'evt-1', symbol: 'BTCUSDT', leverage: 5 } as const;
const ALLOWED = 'allowed: eventId, accountId, symbol, leverage, targets, symbols, mode, dryRun, issuedAt, reason, metadata';
const SYMBOL_RULE = 'must be an uppercase UM symbol such as BTCUSDT or BTCUSDT_261225';
const ACCOUNT_RULE = 'must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"';
const ISO_RULE =
  'must be a UTC or offset timestamp such as 2026-11-25T10:00:00Z, 2026-11-25T10:00:00.123Z or 2026-11-25T11:00:00+01:00 (a real calendar date and time)';

function messageOf(result: Validation): string {
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.command)}`);
  return result.message;
}

function commandOf(result: Validation): RiskCommand {
  if (!result.ok) throw new Error(`expected a command, got: ${result.message}`);
  return result.command;
}

/** The defaults every accepted event without mode and dryRun gets. */
const DEFAULTS = { accountId: DEFAULT_ACCOUNT_ID, mode: 'set', dryRun: false } as const;
const single = (symbol: string, leverage: number) => ({ kind: 'targets', targets: [{ symbol, leverage }] }) as const;

const withField = (field: string, value: unknown) => ({ ...VALID, [field]: value });

describe('validateRiskEvent: accepted events', () => {
  test('the minimal event gets the default account, mode "set", no dry run, and nothing else', () => {
    expect(validateRiskEvent(VALID)).toStrictEqual({
      ok: true,
      command: { eventId: 'evt-1', accountId: 'default', mode: 'set', dryRun: false, scope: single('BTCUSDT', 5) },
    });
    expect(DEFAULT_ACCOUNT_ID).toBe('default');
  });

  test('a full event is passed through field for field', () => {
    const full = {
      eventId: 'e'.repeat(128),
      accountId: 'Desk_7.main-a',
      symbol: 'BTCUSDT_261225',
      leverage: 125,
      issuedAt: '2026-11-25T10:00:00.123+02:00',
      reason: 'r'.repeat(512),
      metadata: { rule: 'drawdown', nested: { list: [1, 'two', null] } },
      mode: 'reduce-only',
      dryRun: true,
    };
    const { symbol, leverage, ...rest } = full;
    expect(validateRiskEvent(full)).toStrictEqual({
      ok: true,
      command: { ...rest, issuedAtMs: Date.UTC(2026, 10, 25, 8, 0, 0, 123), scope: single(symbol, leverage) },
    });
  });

  test.each([
    ['symbol', 'BTCUSDT'],
    ['symbol', '1000PEPEUSDT'],
    ['symbol', 'BTCUSDT_261225'],
    ['symbol', 'A'.repeat(32)],
    ['leverage', 1],
    ['leverage', 125],
    ['leverage', 1e2],
    ['eventId', 'x'],
    ['accountId', 'a'.repeat(64)],
    ['accountId', 'Ab.9_-'],
    ['issuedAt', '2026-11-25T10:00:00Z'],
    ['reason', ''],
    ['metadata', {}],
    ['mode', 'set'],
    ['mode', 'reduce-only'],
    ['dryRun', true],
    ['dryRun', false],
  ])('%s %p is accepted as is', (field, value) => {
    const command = commandOf(validateRiskEvent(withField(field, value)));
    const [target] = command.scope.kind === 'targets' ? command.scope.targets : [];
    const fields: Record<string, unknown> = { ...command, ...target };
    expect(fields[field]).toStrictEqual(value);
  });
});

describe('validateRiskEvent: each field rule names the field and says why', () => {
  test.each([
    // eventId: required string of 1..128 characters
    ['eventId', undefined, 'eventId: is required'],
    ['eventId', '', 'eventId: must not be empty, got ""'],
    ['eventId', 'e'.repeat(129), `eventId: must be at most 128 characters, got "${'e'.repeat(40)}…"`],
    ['eventId', 5, 'eventId: must be a string, got 5'],
    // symbol: required uppercase UM symbol
    ['symbol', undefined, 'symbol: is required'],
    ['symbol', 'btcusdt', `symbol: ${SYMBOL_RULE}, got "btcusdt"`],
    ['symbol', 'BTC-USDT', `symbol: ${SYMBOL_RULE}, got "BTC-USDT"`],
    ['symbol', '', `symbol: ${SYMBOL_RULE}, got ""`],
    ['symbol', 'B', `symbol: ${SYMBOL_RULE}, got "B"`],
    ['symbol', 'A'.repeat(33), `symbol: ${SYMBOL_RULE}, got "${'A'.repeat(33)}"`],
    ['symbol', 'BTCUSDT_2612', `symbol: ${SYMBOL_RULE}, got "BTCUSDT_2612"`],
    ['symbol', 'BTCUSDT\n', `symbol: ${SYMBOL_RULE}, got "BTCUSDT\\n"`],
    ['symbol', true, 'symbol: must be a string, got true'],
    // leverage: required integer 1..125
    ['leverage', undefined, 'leverage: is required'],
    ['leverage', '5', 'leverage: must be a number (not a string), got "5"'],
    ['leverage', 2.5, 'leverage: must be a whole number, got 2.5'],
    ['leverage', 0, 'leverage: must be at least 1, got 0'],
    ['leverage', -3, 'leverage: must be at least 1, got -3'],
    ['leverage', 126, 'leverage: must be at most 125, got 126'],
    ['leverage', NaN, 'leverage: must be a number (not a string), got NaN'],
    ['leverage', null, 'leverage: must be a number (not a string), got null'],
    // accountId: optional [A-Za-z0-9._-]{1,64}
    ['accountId', '', `accountId: ${ACCOUNT_RULE}, got ""`],
    ['accountId', 'a b', `accountId: ${ACCOUNT_RULE}, got "a b"`],
    ['accountId', 'acct/1', `accountId: ${ACCOUNT_RULE}, got "acct/1"`],
    ['accountId', 'a'.repeat(65), `accountId: ${ACCOUNT_RULE}, got "${'a'.repeat(40)}…"`],
    ['accountId', 7, 'accountId: must be a string, got 7'],
    // issuedAt: optional, in one of the accepted forms (see "validateRiskEvent: issuedAt" below)
    ['issuedAt', '2026-11-25', `issuedAt: ${ISO_RULE}, got "2026-11-25"`],
    ['issuedAt', '2026-11-25T10:00:00', `issuedAt: ${ISO_RULE}, got "2026-11-25T10:00:00"`],
    ['issuedAt', '2026-13-45T99:99:99Z', `issuedAt: ${ISO_RULE}, got "2026-13-45T99:99:99Z"`],
    ['issuedAt', 'yesterday', `issuedAt: ${ISO_RULE}, got "yesterday"`],
    ['issuedAt', 1764064800000, 'issuedAt: must be an ISO 8601 timestamp string, got 1764064800000'],
    // reason: optional string of at most 512 characters
    ['reason', 'r'.repeat(513), `reason: must be at most 512 characters, got "${'r'.repeat(40)}…"`],
    ['reason', 5, 'reason: must be a string, got 5'],
    // metadata: optional object of at most 4096 bytes serialised
    ['metadata', 'x', 'metadata: must be a JSON object, got "x"'],
    ['metadata', null, 'metadata: must be a JSON object, got null'],
    ['metadata', { note: 'x'.repeat(5000) }, 'metadata: must serialise to at most 4096 bytes, got an object'],
    // mode: optional "set" | "reduce-only"; dryRun: optional boolean
    ['mode', 'SET', 'mode: must be "set" or "reduce-only", got "SET"'],
    ['mode', 'reduce_only', 'mode: must be "set" or "reduce-only", got "reduce_only"'],
    ['mode', null, 'mode: must be "set" or "reduce-only", got null'],
    ['mode', 1, 'mode: must be "set" or "reduce-only", got 1'],
    ['dryRun', 'true', 'dryRun: must be true or false, got "true"'],
    ['dryRun', 1, 'dryRun: must be true or false, got 1'],
    ['dryRun', null, 'dryRun: must be true or false, got null'],
  ])('%s = %p is rejected', (field, value, message) => {
    const event: Record<string, unknown> = withField(field, value);
    if (value === undefined) delete event[field];
    expect(messageOf(validateRiskEvent(event))).toBe(message);
  });

  test('metadata that is an array is rejected, not converted', () => {
    expect(messageOf(validateRiskEvent(withField('metadata', [1, 2])))).toBe('metadata: must be a JSON object, got an array');
  });

  test('issuedAt on a day that does not exist is rejected', () => {
    expect(messageOf(validateRiskEvent(withField('issuedAt', '2026-02-30T10:00:00Z')))).toBe(`issuedAt: ${ISO_RULE}, got "2026-02-30T10:00:00Z"`);
  });

  test('metadata is measured in UTF-8 bytes: 4096 pass, 4098 do not', () => {
    // {"k":"…"} is 8 bytes of framing; each "é" is 2 bytes.
    const metadata = (count: number) => ({ k: 'é'.repeat(count) });
    expect(Buffer.byteLength(JSON.stringify(metadata(2044)))).toBe(4096);
    expect(validateRiskEvent(withField('metadata', metadata(2044))).ok).toBe(true);
    expect(messageOf(validateRiskEvent(withField('metadata', metadata(2045))))).toBe(
      'metadata: must serialise to at most 4096 bytes, got an object',
    );
  });

  test('the size message says "an object"', () => {
    expect(messageOf(validateRiskEvent(withField('metadata', { note: 'x'.repeat(5000) })))).toBe(
      'metadata: must serialise to at most 4096 bytes, got an object',
    );
  });

  test('every broken field is reported, in schema order', () => {
    expect(messageOf(validateRiskEvent({}))).toBe('eventId: is required; symbol: is required; leverage: is required');
    expect(messageOf(validateRiskEvent({ eventId: '', symbol: 'btc', leverage: 0 }))).toBe(
      `eventId: must not be empty, got ""; symbol: ${SYMBOL_RULE}, got "btc"; leverage: must be at least 1, got 0`,
    );
  });

  test.each(['extra', '__proto__', 'constructor', 'Symbol', 'event_id'])(
    'unknown field %p is rejected with the list of allowed fields',
    (field) => {
      const event = JSON.parse(`{"eventId":"evt-1","symbol":"BTCUSDT","leverage":5,${JSON.stringify(field)}:1}`);
      expect(messageOf(validateRiskEvent(event))).toBe(`${field}: unknown field (${ALLOWED})`);
    },
  );

  test.each([
    [null, 'null'],
    [[], 'an array'],
    [[VALID], 'an array'],
    ['{"eventId":"e"}', 'a string'],
    [5, 'a number'],
    [true, 'a boolean'],
  ])('non-object input %p is rejected as %s, with nothing salvaged', (input, kind) => {
    expect(validateRiskEvent(input)).toStrictEqual({
      ok: false,
      message: `event must be a JSON object, got ${kind}`,
      partial: {},
    });
  });
});

describe('validateRiskEvent: an event with thousands of problems', () => {
  test('a list of targets above the limit is refused as a whole: no entry of it is even read', () => {
    let entriesRead = 0;
    const entry = () =>
      Object.defineProperties({}, {
        symbol: { enumerable: true, get: () => (entriesRead++, 'bad') },
        leverage: { enumerable: true, get: () => (entriesRead++, 'x') },
      });
    const targets = Array.from({ length: 5000 }, entry);
    expect(messageOf(validateRiskEvent({ eventId: 'evt-1', targets }))).toBe('targets: must hold at most 50 targets, got an array');
    expect(entriesRead).toBe(0);
  });

  /** `count` problems: each entry has a bad symbol and a bad leverage. */
  const badTargets = (count: number) => Array.from({ length: Math.ceil(count / 2) }, (_, i) => ({ symbol: `bad${i}`, leverage: 0 }));
  const problemsOf = (i: number) => [`targets.${i}.symbol: ${SYMBOL_RULE}, got "bad${i}"`, `targets.${i}.leverage: must be at least 1, got 0`];

  test(`the message lists the first ${MAX_REPORTED_PROBLEMS} problems and counts the rest`, () => {
    const message = messageOf(validateRiskEvent({ eventId: 'evt-1', targets: badTargets(100) }));
    const listed = Array.from({ length: MAX_REPORTED_PROBLEMS / 2 }, (_, i) => problemsOf(i)).flat();
    expect(message).toBe(`${listed.join('; ')}; and ${100 - MAX_REPORTED_PROBLEMS} more problems`);
  });

  test('one problem over the limit is counted in the singular; exactly the limit is listed in full', () => {
    const oneOver = { eventId: 'evt-1', targets: badTargets(MAX_REPORTED_PROBLEMS), mode: 'sideways' };
    expect(messageOf(validateRiskEvent(oneOver))).toMatch(/; and 1 more problem$/);
    expect(messageOf(validateRiskEvent({ eventId: 'evt-1', targets: badTargets(MAX_REPORTED_PROBLEMS) })).split('; ')).toHaveLength(MAX_REPORTED_PROBLEMS);
  });
});

describe('validateRiskEvent: the three shapes of an event', () => {
  const ID = { eventId: 'evt-1' };
  /** `count` distinct targets AAAUSDT, AABUSDT, … at leverage 5. */
  const targets = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ symbol: `A${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}USDT`, leverage: 5 }));
  const TWO = [{ symbol: 'BTCUSDT', leverage: 5 }, { symbol: 'ETHUSDT', leverage: 7 }];
  const ALL = { symbols: ALL_OPEN_POSITIONS, leverage: 3 };

  test.each([
    ['targets: 1 entry', { targets: targets(1) }, { ...DEFAULTS, scope: { kind: 'targets', targets: targets(1) } }],
    ['targets: 50 entries (the most)', { targets: targets(50) }, { ...DEFAULTS, scope: { kind: 'targets', targets: targets(50) } }],
    ['targets with their own leverages, reduce-only, dry run', { targets: TWO, mode: 'reduce-only', dryRun: true },
      { ...DEFAULTS, mode: 'reduce-only', dryRun: true, scope: { kind: 'targets', targets: TWO } }],
    ['ALL_OPEN_POSITIONS without mode: forced reduce-only', ALL, { ...DEFAULTS, mode: 'reduce-only', scope: { kind: 'all-open-positions', leverage: 3 } }],
    ['ALL_OPEN_POSITIONS with mode reduce-only and dry run', { ...ALL, mode: 'reduce-only', dryRun: true },
      { ...DEFAULTS, mode: 'reduce-only', dryRun: true, scope: { kind: 'all-open-positions', leverage: 3 } }],
    ['symbol + leverage in reduce-only', { symbol: 'BTCUSDT', leverage: 5, mode: 'reduce-only' }, { ...DEFAULTS, mode: 'reduce-only', scope: single('BTCUSDT', 5) }],
  ])('accepted: %s', (_name, event, command) => {
    expect(commandOf(validateRiskEvent({ ...ID, ...event }))).toStrictEqual({ ...ID, ...command });
  });

  test.each([
    // targets: 1..50 entries of {symbol, leverage}, no symbol twice
    ['no targets', { targets: [] }, 'targets: must hold at least 1 target, got an array'],
    ['51 targets', { targets: targets(51) }, 'targets: must hold at most 50 targets, got an array'],
    ['a symbol named twice', { targets: [...TWO, { symbol: 'BTCUSDT', leverage: 9 }] }, 'targets: must not name a symbol twice, got an array'],
    ['targets not an array', { targets: 'BTCUSDT' }, 'targets: must be an array of {symbol, leverage}, got "BTCUSDT"'],
    ['an entry that is not an object', { targets: ['BTCUSDT'] }, 'targets.0: must be an object with symbol and leverage, got "BTCUSDT"'],
    ['an entry with a fractional leverage', { targets: [TWO[0], { symbol: 'ETHUSDT', leverage: 2.5 }] }, 'targets.1.leverage: must be a whole number, got 2.5'],
    ['an entry without leverage', { targets: [TWO[0], { symbol: 'ETHUSDT' }] }, 'targets.1.leverage: is required'],
    ['an entry without symbol', { targets: [{ leverage: 5 }] }, 'targets.0.symbol: is required'],
    ['an entry with a string leverage', { targets: [{ symbol: 'BTCUSDT', leverage: '5' }] }, 'targets.0.leverage: must be a number (not a string), got "5"'],
    ['every bad entry field is reported', { targets: [{ symbol: 'btc', leverage: 0 }, { symbol: 'ETHUSDT', leverage: 126 }] },
      `targets.0.symbol: ${SYMBOL_RULE}, got "btc"; targets.0.leverage: must be at least 1, got 0; targets.1.leverage: must be at most 125, got 126`],
    // targets excludes the other shapes' fields
    ['symbol with targets', { symbol: 'BTCUSDT', targets: TWO }, 'symbol: not allowed with targets (each target names its symbol and leverage)'],
    ['leverage with targets', { leverage: 5, targets: TWO }, 'leverage: not allowed with targets (each target names its symbol and leverage)'],
    ['symbol and leverage with targets', { ...VALID, targets: TWO }, 'symbol, leverage: not allowed with targets (each target names its symbol and leverage)'],
    ['symbols with targets', { symbols: ALL_OPEN_POSITIONS, targets: TWO }, 'symbols: not allowed with targets (each target names its symbol and leverage)'],
    // ALL_OPEN_POSITIONS: needs leverage, never "set", no symbol
    ['ALL_OPEN_POSITIONS without leverage', { symbols: ALL_OPEN_POSITIONS }, 'leverage: is required with symbols "ALL_OPEN_POSITIONS"'],
    ['ALL_OPEN_POSITIONS with mode "set"', { ...ALL, mode: 'set' }, 'mode: must be "reduce-only" with symbols "ALL_OPEN_POSITIONS", which only lowers leverage'],
    ['ALL_OPEN_POSITIONS with a symbol', { ...ALL, symbol: 'BTCUSDT' }, 'symbol: not allowed with symbols'],
    ['ALL_OPEN_POSITIONS, leverage out of range', { ...ALL, leverage: 126 }, 'leverage: must be at most 125, got 126'],
    ['ALL_OPEN_POSITIONS, several shape problems at once', { symbols: ALL_OPEN_POSITIONS, symbol: 'BTCUSDT', mode: 'set' },
      'symbol: not allowed with symbols; leverage: is required with symbols "ALL_OPEN_POSITIONS"; mode: must be "reduce-only" with symbols "ALL_OPEN_POSITIONS", which only lowers leverage'],
    // symbols: only one known value
    ['an unknown symbols value', { symbols: 'ALL', leverage: 3 }, 'symbols: must be "ALL_OPEN_POSITIONS", got "ALL"'],
    ['symbols in lower case', { symbols: 'all_open_positions', leverage: 3 }, 'symbols: must be "ALL_OPEN_POSITIONS", got "all_open_positions"'],
    ['symbols as a list', { symbols: ['BTCUSDT'], leverage: 3 }, 'symbols: must be "ALL_OPEN_POSITIONS", got an array'],
    // the single-symbol shape names what it lacks
    ['symbol without leverage', { symbol: 'BTCUSDT' }, 'leverage: is required'],
    ['leverage without symbol', { leverage: 5 }, 'symbol: is required'],
  ])('rejected: %s', (_name, event, message) => {
    expect(messageOf(validateRiskEvent({ ...ID, ...event }))).toBe(message);
  });

  test('an unknown field inside a target entry is named with its path and the entry\'s fields', () => {
    expect(messageOf(validateRiskEvent({ ...ID, targets: [TWO[0], { symbol: 'ETHUSDT', leverage: 5, lev: 1 }] }))).toBe(
      'targets.1.lev: unknown field (allowed: symbol, leverage)',
    );
  });

  test('an unknown field inside a target entry is rejected (whatever the message says)', () => {
    expect(validateRiskEvent({ ...ID, targets: [{ symbol: 'BTCUSDT', leverage: 5, lev: 1 }] }).ok).toBe(false);
  });

  test('ALL_OPEN_POSITIONS accepts mode "reduce-only" explicitly but the result is the same as without', () => {
    expect(validateRiskEvent({ ...ID, ...ALL, mode: 'reduce-only' })).toStrictEqual(validateRiskEvent({ ...ID, ...ALL }));
  });

  test.each([
    ['targets', { targets: [{ symbol: 'BTCUSDT', leverage: 200 }] }, { eventId: 'evt-1', accountId: 'default', symbol: undefined, requestedLeverage: undefined }],
    ['ALL_OPEN_POSITIONS', { ...ALL, mode: 'set' }, { eventId: 'evt-1', accountId: 'default', symbol: undefined, requestedLeverage: 3 }],
  ])('an invalid %s event still salvages its identity', (_name, event, partial) => {
    const result = validateRiskEvent({ ...ID, ...event });
    expect(!result.ok && result.partial).toStrictEqual(partial);
  });
});

describe('validateRiskEvent: identity salvaged from an invalid event', () => {
  test.each([
    ['valid identity, bad leverage', withField('leverage', 2.5), { eventId: 'evt-1', accountId: 'default', symbol: 'BTCUSDT', requestedLeverage: 2.5 }],
    ['leverage as a string', withField('leverage', '5'), { eventId: 'evt-1', accountId: 'default', symbol: 'BTCUSDT', requestedLeverage: undefined }],
    ['leverage out of range', withField('leverage', 500), { eventId: 'evt-1', accountId: 'default', symbol: 'BTCUSDT', requestedLeverage: 500 }],
    ['bad symbol', withField('symbol', 'btcusdt'), { eventId: 'evt-1', accountId: 'default', symbol: undefined, requestedLeverage: 5 }],
    ['bad eventId', withField('eventId', ''), { eventId: undefined, accountId: 'default', symbol: 'BTCUSDT', requestedLeverage: 5 }],
    ['bad accountId', withField('accountId', 'a b'), { eventId: 'evt-1', accountId: undefined, symbol: 'BTCUSDT', requestedLeverage: 5 }],
    ['explicit account, unknown field', { ...VALID, accountId: 'desk-2', extra: 1 }, { eventId: 'evt-1', accountId: 'desk-2', symbol: 'BTCUSDT', requestedLeverage: 5 }],
  ])('%s', (_name, event, partial) => {
    const result = validateRiskEvent(event);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.partial).toStrictEqual(partial);
  });

  test('an explicit null accountId is not salvaged as the default account', () => {
    const result = validateRiskEvent(withField('accountId', null));
    expect(!result.ok && result.partial.accountId).toBeUndefined();
  });
});

describe('parseJsonBody', () => {
  afterEach(() => jest.restoreAllMocks());

  test.each([
    ['{"a":1}', { a: 1 }],
    ['[1]', [1]],
    ['"text"', 'text'],
    ['null', null],
  ])('%s parses', (body, value) => {
    expect(parseJsonBody(body)).toStrictEqual({ ok: true, value });
  });

  test.each(['', '{', 'not json', "{'a':1}", '{"a":1,}'])('%p is rejected with the parser detail', (body) => {
    let detail = '';
    try {
      JSON.parse(body);
    } catch (error) {
      detail = (error as Error).message;
    }
    expect(parseJsonBody(body)).toStrictEqual({ ok: false, message: `body is not valid JSON (${detail})` });
  });

  test.each([
    ['a 200-character SyntaxError is cut to 120 characters', new SyntaxError('d'.repeat(200)), `${'d'.repeat(120)}…`],
    ['a thrown non-Error is quoted as text', 'a thrown string', 'a thrown string'],
  ])('parser detail: %s', (_name, thrown, detail) => {
    jest.spyOn(JSON, 'parse').mockImplementationOnce(() => {
      throw thrown;
    });
    expect(parseJsonBody('{}')).toStrictEqual({ ok: false, message: `body is not valid JSON (${detail})` });
  });
});

describe('validateRiskEvent: issuedAt', () => {
  /** 0100-01-01T00:00:00Z: Date.UTC itself would read year 100 as 2000 - 1900 + 100. */
  const YEAR_100 = new Date(0).setUTCFullYear(100, 0, 1);

  // Every accepted form, and the instant it stands for (built independently with Date.UTC).
  test.each<[string, number]>([
    ['2026-11-25T10:00:00Z', Date.UTC(2026, 10, 25, 10, 0, 0)],
    ['2026-11-25T10:00:07Z', Date.UTC(2026, 10, 25, 10, 0, 7)],
    ['2026-11-25T10:00:00.1Z', Date.UTC(2026, 10, 25, 10, 0, 0, 100)],
    ['2026-11-25T10:00:00.12Z', Date.UTC(2026, 10, 25, 10, 0, 0, 120)],
    ['2026-11-25T10:00:00.123Z', Date.UTC(2026, 10, 25, 10, 0, 0, 123)],
    ['2026-11-25T10:00:00.123456Z', Date.UTC(2026, 10, 25, 10, 0, 0, 123)],
    ['2026-11-25T10:00:00.999999999Z', Date.UTC(2026, 10, 25, 10, 0, 0, 999)],
    ['2026-11-25T11:00:00+01:00', Date.UTC(2026, 10, 25, 10, 0, 0)],
    ['2026-11-25T04:30:00-05:30', Date.UTC(2026, 10, 25, 10, 0, 0)],
    ['2026-11-25T10:00:00+00:00', Date.UTC(2026, 10, 25, 10, 0, 0)],
    ['2026-11-25T10:00:00-00:00', Date.UTC(2026, 10, 25, 10, 0, 0)],
    ['2026-01-01T00:30:00+01:00', Date.UTC(2025, 11, 31, 23, 30, 0)],
    ['2026-11-26T00:00:00+14:00', Date.UTC(2026, 10, 25, 10, 0, 0)],
    ['2026-11-24T20:00:00-14:00', Date.UTC(2026, 10, 25, 10, 0, 0)],
    ['2026-11-25T23:59:59.999Z', Date.UTC(2026, 10, 25, 23, 59, 59, 999)],
    ['2024-02-29T10:00:00Z', Date.UTC(2024, 1, 29, 10, 0, 0)],
    ['2000-02-29T10:00:00Z', Date.UTC(2000, 1, 29, 10, 0, 0)],
    ['0100-01-01T00:00:00Z', YEAR_100],
  ])('%s is accepted; issuedAtMs is its instant, issuedAt stays as written', (issuedAt, instant) => {
    expect(parseIssuedAt(issuedAt)).toBe(instant);
    const command = commandOf(validateRiskEvent(withField('issuedAt', issuedAt)));
    expect([command.issuedAt, command.issuedAtMs]).toEqual([issuedAt, instant]);
  });

  test.each([
    ['an offset without minutes', '2020-01-01T10:00:00+05'],
    ['no seconds (RFC 3339 requires them)', '2026-11-25T10:00Z'],
    ['no seconds, with an offset', '2026-11-25T11:00+01:00'],
    ['an offset without a colon', '2026-11-25T10:00:00+0500'],
    ['no zone at all (local time of whom?)', '2026-11-25T10:00:00'],
    ['a space instead of T', '2026-11-25 10:00:00Z'],
    ['a lowercase t', '2026-11-25t10:00:00Z'],
    ['a lowercase z', '2026-11-25T10:00:00z'],
    ['24:00', '2026-11-25T24:00:00Z'],
    ['minute 60', '2026-11-25T10:60:00Z'],
    ['a leap second', '2026-12-31T23:59:60Z'],
    ['a day that does not exist', '2026-02-30T10:00:00Z'],
    ['29 February of a common year', '2026-02-29T10:00:00Z'],
    ['29 February 2100 (not a leap year)', '2100-02-29T10:00:00Z'],
    ['month 13', '2026-13-01T10:00:00Z'],
    ['day 0', '2026-11-00T10:00:00Z'],
    ['an offset beyond +14:00', '2026-11-25T10:00:00+14:01'],
    ['an offset beyond -14:00', '2026-11-25T10:00:00-14:01'],
    ['an offset of +15:00', '2026-11-25T10:00:00+15:00'],
    ['offset minutes beyond 59', '2026-11-25T10:00:00+05:60'],
    ['year 0099 (Date.UTC would read 1999)', '0099-12-31T10:00:00Z'],
    ['year 0000', '0000-01-01T00:00:00Z'],
    ['a fraction of 10 digits', '2026-11-25T10:00:00.1234567890Z'],
    ['an empty fraction', '2026-11-25T10:00:00.Z'],
    ['a comma fraction', '2026-11-25T10:00:00,123Z'],
    ['a fraction without seconds', '2026-11-25T10:00.5Z'],
    ['hours only', '2026-11-25T10Z'],
    ['a date only', '2026-11-25'],
    ['a basic-format timestamp', '20261125T100000Z'],
    ['a five-digit year', '+02026-11-25T10:00:00Z'],
    ['a trailing newline', '2026-11-25T10:00:00Z\n'],
    ['leading whitespace', ' 2026-11-25T10:00:00Z'],
    ['single-digit fields', '2026-1-5T1:00:00Z'],
    ['non-ASCII digits', '２０２６-11-25T10:00:00Z'],
    ['an RFC 2822 date', 'Wed, 25 Nov 2026 10:00:00 GMT'],
  ])('%s (%p) is refused with the rule, never reaching a decision', (_name, issuedAt) => {
    expect(parseIssuedAt(issuedAt)).toBeUndefined();
    expect(messageOf(validateRiskEvent(withField('issuedAt', issuedAt)))).toBe(`issuedAt: ${ISO_RULE}, got ${JSON.stringify(issuedAt)}`);
  });

  test('an event without issuedAt has no issuedAtMs either', () => {
    expect('issuedAtMs' in commandOf(validateRiskEvent(VALID))).toBe(false);
  });

  test('issuedAtMs is never NaN: any instant from year 100 to 9999, written at any offset up to ±14:00, parses to itself', () => {
    const pad = (value: number, width = 2) => String(value).padStart(width, '0');
    const minInstant = YEAR_100 + 14 * 3_600_000;
    const maxInstant = Date.UTC(9999, 11, 31, 23, 59, 59, 999) - 14 * 3_600_000;
    fc.assert(
      fc.property(fc.integer({ min: minInstant, max: maxInstant }), fc.integer({ min: -14 * 60, max: 14 * 60 }), (instant, offsetMinutes) => {
        const local = new Date(instant + offsetMinutes * 60_000).toISOString().slice(0, 23);
        const magnitude = Math.abs(offsetMinutes);
        const written = `${local}${offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(magnitude / 60))}:${pad(magnitude % 60)}`;
        expect(parseIssuedAt(written)).toBe(instant);
        expect(commandOf(validateRiskEvent(withField('issuedAt', written))).issuedAtMs).toBe(instant);
      }),
      { numRuns: 500 },
    );
  });

  test('any string either is refused or parses to a finite instant', () => {
    const timestampLike = fc
      .tuple(fc.integer({ min: 0, max: 10_999 }), ...Array.from({ length: 5 }, () => fc.integer({ min: 0, max: 99 })), fc.constantFrom('Z', '+05', '+05:00', '-14:59', 'z', ''))
      .map(([year, month, day, hour, minute, second, zone]) =>
        `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}${zone}`,
      );
    fc.assert(
      fc.property(fc.oneof(fc.string(), timestampLike), (text) => {
        const instant = parseIssuedAt(text);
        if (instant !== undefined) expect(Number.isFinite(instant)).toBe(true);
        expect(validateRiskEvent(withField('issuedAt', text)).ok).toBe(instant !== undefined);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('validateRiskEvent never throws', () => {
  const dangerousKeys = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'eventId', 'leverage');
  const objectWithDangerousKeys = fc
    .tuple(fc.dictionary(dangerousKeys, fc.jsonValue()), fc.jsonValue())
    .map(([entries, extra]) => JSON.parse(JSON.stringify({ ...entries, extra }).replace('"extra"', '"__proto__"')));

  const input = fc.oneof(
    fc.jsonValue(),
    objectWithDangerousKeys,
    fc.record(
      {
        eventId: fc.jsonValue(),
        symbol: fc.jsonValue(),
        leverage: fc.jsonValue(),
        accountId: fc.jsonValue(),
        metadata: fc.jsonValue(),
        targets: fc.oneof(fc.jsonValue(), fc.array(fc.record({ symbol: fc.constantFrom('BTCUSDT', 'ETHUSDT', 'x'), leverage: fc.jsonValue() }))),
        symbols: fc.oneof(fc.constant(ALL_OPEN_POSITIONS), fc.jsonValue()),
        mode: fc.oneof(fc.constantFrom('set', 'reduce-only'), fc.jsonValue()),
        dryRun: fc.jsonValue(),
      },
      { requiredKeys: [] },
    ),
  );

  test('for any JSON value it returns a command or a non-empty message', () => {
    fc.assert(
      fc.property(input, (value) => {
        const result = validateRiskEvent(value);
        if (result.ok) {
          const { scope } = result.command;
          const leverages = scope.kind === 'targets' ? scope.targets.map((target) => target.leverage) : [scope.leverage];
          expect(typeof result.command.eventId).toBe('string');
          expect(leverages.length).toBeGreaterThan(0);
          expect(leverages.every(Number.isInteger)).toBe(true);
        } else {
          expect(result.message.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 500 },
    );
  });

  test('JSON.parse really produces an own __proto__ key for the generator above', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true}}');
    expect(Object.keys(parsed)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(messageOf(validateRiskEvent({ ...VALID, ...parsed }))).toBe(`__proto__: unknown field (${ALLOWED})`);
  });
});
