// The stage's CloudWatch dashboard: what an operator looks at first. Generated (not YAML) so the
// same definition feeds the stack and scripts/render-dashboard.ts, which draws it with the metric
// values of a local run for the README.
// Used as `Resources: ${file(infra/dashboard.cjs)}` in serverless.yml. CommonJS for osls.
'use strict';

// Binance's request-weight limit per IP and minute (X-MBX-USED-WEIGHT-1M counts against it).
const BINANCE_WEIGHT_LIMIT = 6000;
const STATUSES = ['APPLIED', 'DRY_RUN', 'SKIPPED', 'REJECTED', 'FAILED'];
const WIDTH = 8;
const HEIGHT = 6;

/**
 * The dashboard body (CloudWatch's JSON) for one stage. `region` is left as "${AWS::Region}" in the
 * stack (Fn::Sub fills it in).
 */
function dashboardBody({ service, stage, namespace, metricsService, busName, ruleName, functionTimeoutSeconds, region = '${AWS::Region}' }) {
  const prefix = `${service}-${stage}`;
  const functionName = `${prefix}-change-leverage`;
  const emf = (metric, extra = {}) => [namespace, metric, 'service', metricsService, ...Object.entries(extra).flat()];
  // The queues the function reads: the risk queue(s), and the async failures it reports.
  const queues = { risk: `${prefix}-risk-events`, riskFifo: `${prefix}-risk-events.fifo`, asyncFailures: `${prefix}-async-failures` };
  const dlqs = [
    `${prefix}-risk-events-dlq`,
    `${prefix}-risk-events-dlq.fifo`,
    `${prefix}-eventbridge-dlq`,
    `${prefix}-scheduler-dlq`,
    `${prefix}-async-failures-dlq`,
    `${prefix}-async-failures-unreported-dlq`,
  ];
  const widget = (title, properties, extra = {}) => ({
    type: 'metric',
    width: WIDTH,
    height: HEIGHT,
    properties: { title, region, view: 'timeSeries', period: 60, stat: 'Sum', ...properties },
    ...extra,
  });
  const widgets = [
    widget('Outcomes by status', {
      stacked: true,
      metrics: STATUSES.map((status) => [...emf('Outcomes', { status }), { label: status }]),
    }),
    widget('Outcomes by code (REJECTED, SKIPPED, FAILED)', {
      metrics: [[{ expression: `SEARCH('{${namespace},code,service,status} MetricName="OutcomesByCode" service="${metricsService}"', 'Sum', 60)`, id: 'byCode', label: '' }]],
    }),
    widget('Records handed back for retry, by cause', {
      metrics: [[{ expression: `SEARCH('{${namespace},code,service} MetricName="HandedBack" service="${metricsService}"', 'Sum', 60)`, id: 'handedBack', label: '' }]],
    }),
    widget('Invocations too short for one exchange request, by setting', {
      metrics: [[{ expression: `SEARCH('{${namespace},service,setting} MetricName="ConfigurationErrors" service="${metricsService}"', 'Sum', 60)`, id: 'configurationErrors', label: '' }]],
    }),
    widget('Exchange latency (ms)', {
      stat: 'p50',
      metrics: [
        [...emf('ExchangeLatency'), { stat: 'p50', label: 'p50' }],
        [...emf('ExchangeLatency'), { stat: 'p99', label: 'p99' }],
      ],
    }),
    widget('Used weight (1 min) vs Binance limit', {
      stat: 'Maximum',
      metrics: [[...emf('UsedWeight'), { stat: 'Maximum', label: 'used weight' }]],
      annotations: { horizontal: [{ label: 'Binance limit per IP', value: BINANCE_WEIGHT_LIMIT }] },
      yAxis: { left: { min: 0 } },
    }),
    widget('Clock offset, server - local (ms)', {
      stat: 'Average',
      metrics: [
        [...emf('ClockOffset'), { stat: 'Minimum', label: 'min' }],
        [...emf('ClockOffset'), { stat: 'Maximum', label: 'max' }],
      ],
    }),
    widget('Risk and async-failure queues: depth', {
      stat: 'Maximum',
      metrics: Object.values(queues).flatMap((queue) => [
        ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queue, { label: `${queue} waiting` }],
        ['AWS/SQS', 'ApproximateNumberOfMessagesNotVisible', 'QueueName', queue, { label: `${queue} in flight` }],
      ]),
    }),
    widget('Risk and async-failure queues: oldest message age (s)', {
      stat: 'Maximum',
      metrics: Object.values(queues).map((queue) => ['AWS/SQS', 'ApproximateAgeOfOldestMessage', 'QueueName', queue, { label: queue }]),
    }),
    widget('DLQ depths', {
      stat: 'Maximum',
      metrics: dlqs.map((queue) => ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queue, { label: queue }]),
    }),
    widget('Function errors and throttles', {
      metrics: [
        ['AWS/Lambda', 'Errors', 'FunctionName', functionName, { label: 'errors' }],
        ['AWS/Lambda', 'Throttles', 'FunctionName', functionName, { label: 'throttles' }],
        ['AWS/Lambda', 'AsyncEventsDropped', 'FunctionName', functionName, { label: 'async dropped' }],
        ['AWS/Lambda', 'DestinationDeliveryFailures', 'FunctionName', functionName, { label: 'destination failures' }],
        ['AWS/Events', 'FailedInvocations', 'EventBusName', busName, 'RuleName', ruleName, { label: 'rule failed invocations' }],
      ],
    }),
    widget('Function duration (ms) vs timeout', {
      stat: 'p99',
      metrics: [
        ['AWS/Lambda', 'Duration', 'FunctionName', functionName, { stat: 'p50', label: 'p50' }],
        ['AWS/Lambda', 'Duration', 'FunctionName', functionName, { stat: 'p99', label: 'p99' }],
        ['AWS/Lambda', 'Duration', 'FunctionName', functionName, { stat: 'Maximum', label: 'max' }],
      ],
      annotations: { horizontal: [{ label: 'timeout', value: functionTimeoutSeconds * 1000 }] },
      yAxis: { left: { min: 0 } },
    }),
    widget('Records per invocation, exchange retries', {
      metrics: [
        [...emf('Records'), { label: 'records' }],
        [{ expression: `SEARCH('{${namespace},reason,service} MetricName="ExchangeRetries" service="${metricsService}"', 'Sum', 60)`, id: 'retries', label: '' }],
      ],
    }),
  ];
  // Three per row, in order.
  widgets.forEach((entry, index) => Object.assign(entry, { x: (index % 3) * WIDTH, y: Math.floor(index / 3) * HEIGHT }));
  return { start: '-PT3H', periodOverride: 'inherit', widgets };
}

module.exports = async ({ resolveVariable }) => {
  const settings = {
    service: await resolveVariable('self:service'),
    stage: await resolveVariable('sls:stage'),
    namespace: await resolveVariable('self:custom.metricsNamespace'),
    metricsService: await resolveVariable('self:custom.metricsService'),
    busName: await resolveVariable('self:custom.riskEventBusName'),
    ruleName: await resolveVariable('self:custom.riskEventRuleName'),
    functionTimeoutSeconds: Number(await resolveVariable('param:functionTimeout')),
  };
  return {
    Dashboard: {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: `${settings.service}-${settings.stage}`,
        DashboardBody: { 'Fn::Sub': JSON.stringify(dashboardBody(settings)) },
      },
    },
  };
};
module.exports.dashboardBody = dashboardBody;
module.exports.BINANCE_WEIGHT_LIMIT = BINANCE_WEIGHT_LIMIT;
