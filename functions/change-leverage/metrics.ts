/**
 * CloudWatch metrics in Embedded Metric Format (Powertools Metrics), namespace `LeverageGuard`:
 * written to the log as JSON, so they cost no API call on the hot path. The alarms in infra/
 * watch `Outcomes{status=FAILED}`; the README lists every metric.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ExchangeObserver } from '../adapters/binance/papi-client.ts';
import type { RecordResult } from '../domain/process-batch.ts';
import { SERVICE_NAME } from './logger.ts';

// As for the service name, the environment (POWERTOOLS_METRICS_NAMESPACE, set by infra) wins.
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || 'LeverageGuard', serviceName: SERVICE_NAME });

/**
 * Per invocation: records received, outcomes by status (dimensions service, status) and by status and code, and
 * the records handed back by code. Counted once per distinct dimension set, not once per record.
 */
export function recordInvocationMetrics(results: RecordResult[]): void {
  // Always one stored metric, so every invocation flushes a well-formed EMF line.
  metrics.addMetric('Records', MetricUnit.Count, results.length);
  const counts = new Map<string, { dimensions: Record<string, string>; metric: string; value: number }>();
  const count = (metric: string, dimensions: Record<string, string>) => {
    const key = `${metric}\u0000${JSON.stringify(dimensions)}`;
    const entry = counts.get(key) ?? { dimensions, metric, value: 0 };
    entry.value += 1;
    counts.set(key, entry);
  };
  for (const result of results) {
    for (const outcome of result.outcomes) {
      count('Outcomes', { status: outcome.status });
      if (outcome.code !== undefined) count('OutcomesByCode', { status: outcome.status, code: String(outcome.code) });
    }
    if (result.disposition === 'retry') count('HandedBack', { code: String(result.error?.code ?? 'UNKNOWN') });
  }
  for (const { metric, dimensions, value } of counts.values()) {
    metrics.singleMetric().addDimensions(dimensions).addMetric(metric, MetricUnit.Count, value);
  }
}

/**
 * A setting that cannot work in this invocation (dimension `setting`: the variable's name), so an
 * alarm can name what to fix rather than only seeing records handed back.
 */
export function recordConfigurationError(setting: string): void {
  metrics.singleMetric().addDimension('setting', setting).addMetric('ConfigurationErrors', MetricUnit.Count, 1);
}

/** The exchange client's observations: latency, used weight, clock offset, in-invocation retries. */
export const exchangeMetrics: ExchangeObserver = {
  request(_path, latencyMs, usedWeight) {
    metrics.addMetric('ExchangeLatency', MetricUnit.Milliseconds, latencyMs);
    if (usedWeight !== undefined) metrics.addMetric('UsedWeight', MetricUnit.Count, usedWeight);
  },
  clockOffset(offsetMs) {
    metrics.addMetric('ClockOffset', MetricUnit.Milliseconds, offsetMs);
  },
  retry(reason) {
    metrics.singleMetric().addDimension('reason', reason).addMetric('ExchangeRetries', MetricUnit.Count, 1);
  },
};
