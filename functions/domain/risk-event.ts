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
export const MAX_METADATA_BYTES = 4096;
const MAX_REASON_LENGTH = 512;
/** An invalid event's message lists this many problems, then counts the rest: it goes into one outcome. */
export const MAX_REPORTED_PROBLEMS = 10;

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
/** The accepted `issuedAt` shape; parseIssuedAt checks each part's value (see there). */
const ISSUED_AT = /^((?!00)\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):([0-5]\d):([0-5]\d)(?:\.(\d{1,9}))?(?:Z|([+-])(0\d|1[0-3]|14(?=:00)):([0-5]\d))$/;
const ISSUED_AT_FORMS = 'must be a UTC or offset timestamp such as 2026-11-25T10:00:00Z, 2026-11-25T10:00:00.123Z or 2026-11-25T11:00:00+01:00 (a real calendar date and time)';
const issuedAtSchema = v.pipe(
  v.string('must be an ISO 8601 timestamp string'),
  // RFC 3339 (JSON Schema's date-time) narrowed by ISSUED_AT: the published schema says both.
  v.isoTimestamp(ISSUED_AT_FORMS),
  v.regex(ISSUED_AT, ISSUED_AT_FORMS),
  v.check((text) => parseIssuedAt(text) !== undefined, ISSUED_AT_FORMS),
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
// The length is checked before the entries: a list of thousands is refused as a whole, without
// validating (and reporting) each of its entries.
const targetsSchema = v.pipe(
  v.array(v.unknown(), 'must be an array of {symbol, leverage}'),
  v.minLength(1, 'must hold at least 1 target'),
  v.maxLength(MAX_TARGETS, `must hold at most ${MAX_TARGETS} targets`),
  v.array(targetSchema),
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
}

/** Which symbols an event changes: named ones, or every open position of the account. */
export type Scope = { kind: 'targets'; targets: Target[] } | { kind: 'all-open-positions'; leverage: number };

export interface RiskCommand {
  eventId: string;
  accountId: string;
  scope: Scope;
  mode: 'set' | 'reduce-only';
  dryRun: boolean;
  /** As the producer wrote it (echoed in outcomes). */
  issuedAt?: string;
  /** `issuedAt` as epoch milliseconds: the only form decisions (freshness, ordering) use. */
  issuedAtMs?: number;
  reason?: string;
  metadata?: Record<string, unknown>;
}

/**
 * What one event asks of one symbol, as text: an eventId names one command, and a second command
 * under the same eventId (a producer bug, or a real run after a dry run) is told apart by this.
 * Readable, because the error that reports a reuse quotes it.
 */
export function commandFingerprint(command: RiskCommand, target: Target): string {
  // The instant, not its spelling: "…00Z" and "…00.000+00:00" are one issuedAt.
  const issued = command.issuedAtMs === undefined ? '(no issuedAt)' : new Date(command.issuedAtMs).toISOString();
  return `${command.dryRun ? 'dry run' : 'real run'}, ${command.mode} ${target.leverage}x, issued ${issued}`;
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
    return { ok: false, message: listProblems(problems), partial: salvageIdentity(input) };
  }
  const { symbol: _symbol, leverage: _leverage, targets: _targets, symbols: _symbols, ...rest } = result.output;
  const mode = scope.kind === 'all-open-positions' ? 'reduce-only' : rest.mode;
  const issuedAtMs = rest.issuedAt === undefined ? undefined : parseIssuedAt(rest.issuedAt);
  return { ok: true, command: { ...rest, mode, scope, ...(issuedAtMs === undefined ? {} : { issuedAtMs }) } };
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

function listProblems(problems: string[]): string {
  const listed = problems.slice(0, MAX_REPORTED_PROBLEMS).join('; ');
  const more = problems.length - MAX_REPORTED_PROBLEMS;
  return more > 0 ? `${listed}; and ${more} more problem${more === 1 ? '' : 's'}` : listed;
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
export function serialisedBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value));
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/**
 * `issuedAt` as epoch milliseconds, or undefined when it is not one of the accepted forms:
 * `YYYY-MM-DDTHH:MM:SS[.fraction]` then `Z` or a `±HH:MM` offset up to ±14:00. ISSUED_AT checks
 * every field's range (24:00, +05 without minutes and +15:00 are refused); only the calendar is left
 * here (2026-02-30). A timestamp that cannot be interpreted must never reach a freshness or
 * ordering decision (NaN compares false, so it would pass both). Fractions beyond milliseconds are
 * truncated.
 */
export function parseIssuedAt(text: string): number | undefined {
  const match = ISSUED_AT.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((group) => Number(match[group] ?? 0)) as [number, number, number, number, number, number];
  const milliseconds = Number((match[7] ?? '').slice(0, 3).padEnd(3, '0'));
  const offsetMinutes = (match[8] === '-' ? -1 : 1) * (Number(match[9] ?? 0) * 60 + Number(match[10] ?? 0));
  // Date.UTC rolls 2026-02-30 over to March: refused.
  const midnight = new Date(Date.UTC(year, month - 1, day));
  if (midnight.getUTCMonth() !== month - 1 || midnight.getUTCDate() !== day) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, milliseconds) - offsetMinutes * 60_000;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(truncate(value, 40));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return describeType(value);
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
