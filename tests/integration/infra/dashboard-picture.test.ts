// scripts/render-dashboard.ts draws the README's dashboard picture from infra/dashboard.cjs and
// the EMF lines of a local run. Checked on a small run of known values, and the committed picture
// against the current dashboard definition (change one, redraw the other: npm run dashboard:picture).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { DEV_DASHBOARD_SETTINGS, parseEmf, renderDashboard, seriesOf } from '../../../scripts/render-dashboard.ts';

const ROOT = process.cwd();
const { dashboardBody } = createRequire(path.join(ROOT, 'package.json'))('./infra/dashboard.cjs');
const body = dashboardBody(DEV_DASHBOARD_SETTINGS);

const emf = (timestamp: number, dimensions: Record<string, string>, values: Record<string, number | number[]>) =>
  `  │ ${JSON.stringify({
    _aws: { Timestamp: timestamp, CloudWatchMetrics: [{ Namespace: 'LeverageGuard', Dimensions: [['service', ...Object.keys(dimensions)]], Metrics: Object.keys(values).map((Name) => ({ Name, Unit: 'Count' })) }] },
    service: 'leverage-guard-local',
    ...dimensions,
    ...values,
  })}`;

const run = [
  'not a metric line',
  emf(1000, { status: 'APPLIED' }, { Outcomes: 2 }),
  emf(1500, { status: 'REJECTED', code: '-4028' }, { OutcomesByCode: 1 }),
  emf(2000, {}, { ExchangeLatency: Array.from({ length: 100 }, (_, i) => i + 1), UsedWeight: [5, 9] }),
];

test('reads the EMF records of a run, leaving out the service dimension', () => {
  const records = parseEmf(run);
  expect(records).toHaveLength(3);
  expect(records[0]).toEqual({ timestamp: 1000, namespace: 'LeverageGuard', dimensions: { status: 'APPLIED' }, values: { Outcomes: [2] } });
  expect(records[2]!.values.ExchangeLatency).toHaveLength(100);
});

test('bucketed statistics as CloudWatch computes them: p50, p99, Maximum, SEARCH per dimension set', () => {
  const records = parseEmf(run);
  const latency = body.widgets.find((widget: any) => widget.properties.title === 'Exchange latency (ms)');
  const [p50, p99] = latency.properties.metrics.map((line: any) => seriesOf(line, 'p50', records, 1000, 2000, 1)[0]);
  expect(p50.points).toEqual([50]);
  expect(p99.points).toEqual([99]);
  const byCode = body.widgets.find((widget: any) => widget.properties.title.startsWith('Outcomes by code'));
  expect(seriesOf(byCode.properties.metrics[0], 'Sum', records, 1000, 2000, 1)).toEqual([{ label: 'REJECTED -4028', points: [1] }]);
});

test('draws every widget; AWS metrics are marked as not measured locally, never invented', () => {
  const svg = renderDashboard(body, parseEmf(run), 'caption');
  for (const widget of body.widgets) expect(svg).toContain(widget.properties.title.replace(/&/g, '&amp;'));
  expect(svg).toContain('AWS/SQS: measured by AWS, not by a local run');
  expect(svg).toContain('Binance limit per IP 6.0k');
  expect(svg).toMatch(/>APPLIED</);
});

test('the committed picture (docs/dashboard.svg) shows the current dashboard definition', () => {
  const committed = readFileSync(path.join(ROOT, 'docs/dashboard.svg'), 'utf8');
  for (const widget of body.widgets) expect([widget.properties.title, committed.includes(widget.properties.title)]).toEqual([widget.properties.title, true]);
  expect(readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('![The CloudWatch dashboard](docs/dashboard.svg)');
});
