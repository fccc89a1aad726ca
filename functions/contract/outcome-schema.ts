/**
 * The outcome contract as a valibot schema, so it can be published as a JSON Schema
 * (`npm run schemas` → schemas/outcome.schema.json). The domain's `Outcome` interface stays the
 * source of truth: the type assertion at the bottom stops the build when the two differ, and
 * tests/unit/contract/schemas.test.ts validates real outcomes against the generated file.
 */
import * as v from 'valibot';
import type { Outcome } from '../domain/outcome.ts';
import { MIN_LEVERAGE } from '../domain/risk-event.ts';

// As Binance reports it: no upper bound of ours, so a consumer's validation never rejects a true report.
const leverage = v.pipe(v.number(), v.integer(), v.minValue(MIN_LEVERAGE));

export const outcomeSchema = v.object({
  eventId: v.pipe(v.string(), v.description('The event\'s eventId; for an event that could not be parsed, the SQS messageId, EventBridge event id or Lambda request id.')),
  accountId: v.optional(v.string()),
  symbol: v.optional(v.pipe(v.string(), v.description('Absent only when the event named no usable symbol, or ALL_OPEN_POSITIONS found none.'))),
  requestedLeverage: v.optional(v.pipe(v.number(), v.description('As the event asked; may be out of range on a REJECTED invalid event.'))),
  mode: v.optional(v.picklist(['set', 'reduce-only'])),
  status: v.picklist(['APPLIED', 'REJECTED', 'FAILED', 'SKIPPED', 'DRY_RUN']),
  leverage: v.optional(v.pipe(leverage, v.description('APPLIED: the leverage now in force. DRY_RUN: the leverage that would have been set.'))),
  currentLeverage: v.optional(v.pipe(leverage, v.description('The leverage read from Binance before the change, whenever it was read.'))),
  maxNotionalValue: v.optional(v.pipe(v.string(), v.description('As Binance reports it (a decimal string), on APPLIED.'))),
  capped: v.optional(
    v.pipe(v.literal(true), v.description('The request was above its leverage cap, so the cap was set (or, on DRY_RUN, would be) instead; requestedLeverage is what was asked.')),
  ),
  error: v.optional(
    v.pipe(
      v.object({
        code: v.pipe(v.union([v.number(), v.string()]), v.description('Binance\'s numeric code (-4028) or a stable string (INVALID_EVENT, STALE_EVENT, ...); see the README\'s error-code table.')),
        message: v.string(),
        retryable: v.pipe(v.boolean(), v.description('true only on FAILED: redriving the event may succeed.')),
      }),
      v.description('Why, on REJECTED, FAILED and SKIPPED.'),
    ),
  ),
  trigger: v.picklist(['sqs', 'eventbridge', 'direct']),
  issuedAt: v.optional(v.string()),
  reason: v.optional(v.string()),
  metadata: v.optional(v.record(v.string(), v.unknown())),
  metadataTruncated: v.optional(v.pipe(v.boolean(), v.description('true when metadata was cut to fit the outcome under SNS\'s size limit (its leading entries are kept).'))),
  processedAt: v.pipe(v.string(), v.isoTimestamp()),
  durationMs: v.pipe(v.number(), v.integer(), v.minValue(0)),
});

/**
 * Compiles only while the schema's output type and the domain's Outcome are the same type, field
 * for field (mutual assignability alone would let a new optional field slip through).
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Expand<T> = { [K in keyof T]: T[K] extends object ? Expand<T[K]> : T[K] };
export const OUTCOME_SCHEMA_MATCHES_DOMAIN: Same<Expand<v.InferOutput<typeof outcomeSchema>>, Expand<Outcome>> = true;
