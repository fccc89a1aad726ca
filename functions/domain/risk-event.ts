/**
 * The risk event contract and its validation. Pure: input is whatever the producer sent (already
 * JSON-decoded), output is either a typed command or a message that says which field is wrong and
 * why, specific enough for the producer to fix the event without reading our code.
 */
import * as v from 'valibot';

export const DEFAULT_ACCOUNT_ID = 'default';
export const MIN_LEVERAGE = 1;
export const MAX_LEVERAGE = 125;
export const MAX_TARGETS = 50;
export const ALL_OPEN_POSITIONS = 'ALL_OPEN_POSITIONS';
const MAX_METADATA_BYTES = 4096;
const MAX_REASON_LENGTH = 512;

const eventIdSchema = v.pipe(
  v.string('must be a string'),
  v.minLength(1, 'must not be empty'),
  v.maxLength(128, 'must be at most 128 characters'),
);
const accountIdSchema = v.pipe(
  v.string('must be a string'),
  v.regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1 to 64 characters of A-Z, a-z, 0-9, ".", "_" or "-"'),
);
/** UM perpetuals (BTCUSDT, 1000PEPEUSDT) and dated delivery contracts (BTCUSDT_261225). */
export const UM_SYMBOL = /^[A-Z0-9]{2,32}(_[0-9]{6})?$/;
const symbolSchema = v.pipe(
  v.string('must be a string'),
  v.regex(UM_SYMBOL, 'must be an uppercase UM symbol such as BTCUSDT or BTCUSDT_261225'),
);
const leverageSchema = v.pipe(
  v.number('must be a number (not a string)'),
  v.integer('must be a whole number'),
  v.minValue(MIN_LEVERAGE, `must be at least ${MIN_LEVERAGE}`),
  v.maxValue(MAX_LEVERAGE, `must be at most ${MAX_LEVERAGE}`),
);
const issuedAtSchema = v.pipe(
  v.string('must be an ISO 8601 timestamp string'),
  v.isoTimestamp('must be an ISO 8601 timestamp such as 2026-11-25T10:00:00Z'),
  v.check(isCalendarDate, 'must be a real calendar date'),
);
const reasonSchema = v.pipe(
  v.string('must be a string'),
  v.maxLength(MAX_REASON_LENGTH, `must be at most ${MAX_REASON_LENGTH} characters`),
);
const metadataSchema = v.pipe(
  v.custom<Record<string, unknown>>(isPlainObject, 'must be a JSON object'),
  v.check((metadata) => serialisedBytes(metadata) <= MAX_METADATA_BYTES, `must serialise to at most ${MAX_METADATA_BYTES} bytes`),
);

const targetSchema = v.strictObject(
  { symbol: symbolSchema, leverage: leverageSchema },
  'must be an object with symbol and leverage',
);
const targetsSchema = v.pipe(
  v.array(targetSchema, 'must be an array of {symbol, leverage}'),
  v.minLength(1, 'must hold at least 1 target'),
  v.maxLength(MAX_TARGETS, `must hold at most ${MAX_TARGETS} targets`),
  v.check((targets) => new Set(targets.map((t) => t.symbol)).size === targets.length, 'must not name a symbol twice'),
);

export const riskEventSchema = v.strictObject({
  eventId: eventIdSchema,
  accountId: v.optional(accountIdSchema, DEFAULT_ACCOUNT_ID),
  symbol: v.optional(symbolSchema),
  leverage: v.optional(leverageSchema),
  targets: v.optional(targetsSchema),
  symbols: v.optional(v.literal(ALL_OPEN_POSITIONS, `must be "${ALL_OPEN_POSITIONS}"`)),
  mode: v.optional(v.picklist(['set', 'reduce-only'], 'must be "set" or "reduce-only"'), 'set'),
  dryRun: v.optional(v.boolean('must be true or false'), false),
  issuedAt: v.optional(issuedAtSchema),
  reason: v.optional(reasonSchema),
  metadata: v.optional(metadataSchema),
});

type RiskEventInput = v.InferOutput<typeof riskEventSchema>;

export interface Target {
  symbol: string;
  leverage: number;
  /** Known before the change (from positionRisk), so no extra read is needed. */
  currentLeverage?: number;
}

/** Which symbols an event changes: named ones, or every open position of the account. */
export type Scope = { kind: 'targets'; targets: Target[] } | { kind: 'all-open-positions'; leverage: number };

export interface RiskCommand {
  eventId: string;
  accountId: string;
  scope: Scope;
  mode: 'set' | 'reduce-only';
  dryRun: boolean;
  issuedAt?: string;
  reason?: string;
  metadata?: Record<string, unknown>;
}

export type Validation =
  | { ok: true; command: RiskCommand }
  | { ok: false; message: string; partial: PartialIdentity };

/** What could be salvaged from an invalid event, so its outcome still reaches the right people. */
export interface PartialIdentity {
  eventId?: string;
  accountId?: string;
  symbol?: string;
  requestedLeverage?: number;
}

export function validateRiskEvent(input: unknown): Validation {
  if (!isPlainObject(input)) {
    return { ok: false, message: `event must be a JSON object, got ${describeType(input)}`, partial: {} };
  }
  const result = v.safeParse(riskEventSchema, input, { abortPipeEarly: true });
  const problems = result.success ? [] : result.issues.map(describeIssue);
  // Shape rules look only at which fields are present, so they are reported alongside field errors.
  const scope = scopeOf(result.success ? result.output : (input as Partial<RiskEventInput>), input.mode, problems);
  if (!result.success || !scope || problems.length > 0) {
    return { ok: false, message: problems.join('; '), partial: salvageIdentity(input) };
  }
  const { symbol: _symbol, leverage: _leverage, targets: _targets, symbols: _symbols, ...rest } = result.output;
  const mode = scope.kind === 'all-open-positions' ? 'reduce-only' : rest.mode;
  return { ok: true, command: { ...rest, mode, scope } };
}

/**
 * Exactly one of three shapes: `symbol` + `leverage`; `targets`; or `symbols: "ALL_OPEN_POSITIONS"`
 * + `leverage`, which only ever lowers leverage. Without `targets` or `symbols` an event is the
 * plain single-symbol shape, so its messages name the two fields it lacks.
 */
function scopeOf(event: Partial<RiskEventInput>, mode: unknown, problems: string[]): Scope | undefined {
  const { symbol, leverage, targets, symbols } = event;
  const present = (fields: Record<string, unknown>) => Object.keys(fields).filter((name) => fields[name] !== undefined);
  if (targets) {
    const extra = present({ symbol, leverage, symbols });
    if (extra.length === 0) return { kind: 'targets', targets: targets as Target[] };
    problems.push(`${extra.join(', ')}: not allowed with targets (each target names its symbol and leverage)`);
    return undefined;
  }
  if (symbols) {
    if (symbol !== undefined) problems.push('symbol: not allowed with symbols');
    if (leverage === undefined) problems.push(`leverage: is required with symbols "${ALL_OPEN_POSITIONS}"`);
    if (mode === 'set') problems.push(`mode: must be "reduce-only" with symbols "${ALL_OPEN_POSITIONS}", which only lowers leverage`);
    return problems.length === 0 && leverage !== undefined ? { kind: 'all-open-positions', leverage } : undefined;
  }
  if (symbol === undefined) problems.push('symbol: is required');
  if (leverage === undefined) problems.push('leverage: is required');
  return symbol !== undefined && leverage !== undefined ? { kind: 'targets', targets: [{ symbol, leverage }] } : undefined;
}

/** Body of an SQS message: a string that must hold a JSON object. */
export function parseJsonBody(body: string): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, message: `body is not valid JSON (${truncate(detail, 120)})` };
  }
}

function describeIssue(issue: v.BaseIssue<unknown>): string {
  const field = v.getDotPath(issue) ?? 'event';
  if (issue.type === 'strict_object' && issue.input === undefined) return `${field}: is required`;
  if (issue.type === 'strict_object' && issue.expected === 'never') {
    // Deeper than the event itself means inside a target entry.
    const allowed = (issue.path?.length ?? 0) > 1 ? targetSchema.entries : riskEventSchema.entries;
    const name = (issue.path?.length ?? 0) > 1 ? field : String(issue.input);
    return `${truncate(name, 64)}: unknown field (allowed: ${Object.keys(allowed).join(', ')})`;
  }
  return `${field}: ${issue.message}, got ${describeValue(issue.input)}`;
}

function salvageIdentity(input: Record<string, unknown>): PartialIdentity {
  const text = (value: unknown, schema: v.GenericSchema<string>): string | undefined =>
    v.is(schema, value) ? value : undefined;
  return {
    eventId: text(input.eventId, eventIdSchema),
    accountId: text(input.accountId === undefined ? DEFAULT_ACCOUNT_ID : input.accountId, accountIdSchema),
    symbol: text(input.symbol, symbolSchema),
    requestedLeverage: typeof input.leverage === 'number' && Number.isFinite(input.leverage) ? input.leverage : undefined,
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** Nesting too deep for JSON.stringify (thousands of levels) is too big by any measure. */
function serialisedBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** isoTimestamp checks the shape only; 2026-02-30 has the right shape. */
function isCalendarDate(timestamp: string): boolean {
  const [year, month, day] = timestamp.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(truncate(value, 40));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeType(value);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
