// The EventBridge pattern that routes risk events to leverage-guard. infra/ reads the same JSON
// file (serverless `${file(...)}`), so producers, the local rule and the deployed rule cannot drift.
import pattern from '../../infra/risk-event-pattern.json' with { type: 'json' };

export interface RiskEventPattern {
  source: string[];
  'detail-type': string[];
}

export const RISK_EVENT_PATTERN: Readonly<RiskEventPattern> = pattern;
export const RISK_EVENT_SOURCE = pattern.source[0] ?? 'leverage-guard.risk';
export const RISK_EVENT_DETAIL_TYPES: readonly string[] = pattern['detail-type'];
