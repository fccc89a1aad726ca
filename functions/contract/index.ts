/**
 * The package's entry point (`import … from 'leverage-guard'`): the event and outcome contract
 * as TypeScript types, and the producer helper. The JSON Schemas of the same contract are in
 * schemas/ (`leverage-guard/schemas/risk-event.schema.json`, `…/outcome.schema.json`).
 */
export type { ErrorCode } from '../domain/errors.ts';
export type { Outcome, OutcomeError, OutcomeStatus, Trigger } from '../domain/outcome.ts';
export { ALL_OPEN_POSITIONS, MAX_LEVERAGE, MAX_TARGETS, MIN_LEVERAGE, validateRiskEvent } from '../domain/risk-event.ts';
export { RISK_EVENT_DETAIL_TYPES, RISK_EVENT_SOURCE } from './event-pattern.ts';
export {
  type BusDestination,
  buildRiskEvent,
  type Destination,
  InvalidRiskEventError,
  type QueueDestination,
  type RiskEvent,
  type Sent,
  sendRiskEvent,
} from './producer.ts';
