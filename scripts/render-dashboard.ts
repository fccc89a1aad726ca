// `npm run dashboard:picture`: the README's picture of the CloudWatch dashboard, drawn from the
// dashboard's own definition (infra/dashboard.cjs, the body the stack deploys) with the metric
// values of a local run: it runs `npm start -- --verbose` (simulator + moto + the built function),
// keeps the Embedded Metric Format lines the function writes (what CloudWatch would turn into
// these metrics), and writes docs/dashboard.svg. Widgets of AWS-namespace metrics (SQS, Lambda,
// EventBridge) say that a local run cannot measure them rather than show invented data.
//   npm run dashboard:picture [-- --from <log file>]   (--from: redraw from a saved run's output)
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const { dashboardBody } = createRequire(join(root, 'package.json'))('./infra/dashboard.cjs');

export interface EmfRecord {
  timestamp: number;
  namespace: string;
  /** Dimension values, the `service` one left out (the local run's service name is not the stage's). */
  dimensions: Record<string, string>;
  values: Record<string, number[]>;
}

type MetricLine = (string | { stat?: string; label?: string; expression?: string; id?: string })[];
interface Widget {
  x: number;
  y: number;
  width: number;
  height: number;
  properties: { title: string; stat: string; stacked?: boolean; metrics: MetricLine[]; annotations?: { horizontal: { label: string; value: number }[] } };
}
interface Series {
  label: string;
  points: (number | null)[];
}

/** The dev stage's dashboard, as the README's picture shows it. */
export const DEV_DASHBOARD_SETTINGS = {
  service: 'leverage-guard',
  stage: 'dev',
  namespace: 'LeverageGuard',
  metricsService: 'leverage-guard-dev',
  busName: 'leverage-guard-dev-risk',
  ruleName: 'leverage-guard-dev-risk-events',
  functionTimeoutSeconds: 30,
  region: 'ap-northeast-1',
};

/** The EMF records in a run's output (each log line may carry one JSON object). */
export function parseEmf(lines: string[]): EmfRecord[] {
  const records: EmfRecord[] = [];
  for (const line of lines) {
    const at = line.indexOf('{"_aws"');
    if (at < 0) continue;
    const entry = JSON.parse(line.slice(at));
    for (const directive of entry._aws.CloudWatchMetrics) {
      const dimensions: Record<string, string> = {};
      for (const name of directive.Dimensions[0] ?? []) if (name !== 'service') dimensions[name] = String(entry[name]);
      const values: Record<string, number[]> = {};
      for (const { Name } of directive.Metrics) values[Name] = [entry[Name]].flat();
      records.push({ timestamp: entry._aws.Timestamp, namespace: directive.Namespace, dimensions, values });
    }
  }
  return records;
}

function statistic(stat: string, values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  if (stat === 'Sum') return values.reduce((sum, value) => sum + value, 0);
  if (stat === 'Maximum') return sorted.at(-1)!;
  if (stat === 'Minimum') return sorted[0]!;
  if (stat === 'Average') return values.reduce((sum, value) => sum + value, 0) / values.length;
  const percentile = /^p(\d+(\.\d+)?)$/.exec(stat);
  if (percentile) return sorted[Math.min(sorted.length - 1, Math.ceil((Number(percentile[1]) / 100) * sorted.length) - 1)]!;
  throw new Error(`statistic ${stat} not drawn`);
}

const sameDimensions = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([key, value]) => b[key] === value);

/** The series one dashboard metric line shows, bucketed like CloudWatch's period. */
export function seriesOf(line: MetricLine, widgetStat: string, records: EmfRecord[], start: number, bucketMs: number, buckets: number): Series[] {
  const options = (typeof line.at(-1) === 'object' ? line.at(-1) : {}) as { stat?: string; label?: string; expression?: string };
  const bucketed = (matching: EmfRecord[], metric: string, stat: string) => {
    const values: number[][] = Array.from({ length: buckets }, () => []);
    for (const record of matching) values[Math.min(buckets - 1, Math.floor((record.timestamp - start) / bucketMs))]!.push(...record.values[metric]!);
    return values.map((bucket) => statistic(stat, bucket));
  };
  if (options.expression) {
    // SEARCH('{Namespace,dims...} MetricName="X" ...', 'Stat', period): one series per dimension set found
    const [, namespace] = /\{([^,}]+)/.exec(options.expression)!;
    const [, metric] = /MetricName="([^"]+)"/.exec(options.expression)!;
    const [, stat] = /',\s*'([A-Za-z0-9.]+)'/.exec(options.expression)!;
    const found = records.filter((record) => record.namespace === namespace && record.values[metric!]);
    const sets = [...new Map(found.map((record) => [JSON.stringify(record.dimensions), record.dimensions])).values()];
    return sets.map((dimensions) => ({
      label: Object.values(dimensions).join(' '),
      points: bucketed(found.filter((record) => sameDimensions(record.dimensions, dimensions)), metric!, stat!),
    }));
  }
  const [namespace, metric, ...pairs] = line.filter((item) => typeof item === 'string') as string[];
  const dimensions: Record<string, string> = {};
  for (let i = 0; i < pairs.length; i += 2) if (pairs[i] !== 'service') dimensions[pairs[i]!] = pairs[i + 1]!;
  const matching = records.filter((record) => record.namespace === namespace && record.values[metric!] && sameDimensions(record.dimensions, dimensions));
  if (matching.length === 0) return [];
  return [{ label: options.label ?? metric!, points: bucketed(matching, metric!, options.stat ?? widgetStat) }];
}

const COLORS = ['#1f77b4', '#2ca02c', '#ff7f0e', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const UNIT = { x: 60, y: 50 }; // pixels per dashboard grid unit (24 across)
const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const format = (value: number) => (Math.abs(value) >= 1000 ? `${(value / 1000).toFixed(1)}k` : Number.isInteger(value) ? String(value) : value.toFixed(1));

function drawWidget(widget: Widget, series: Series[], namespaces: string[], seconds: number): string {
  const left = widget.x * UNIT.x + 8;
  const top = widget.y * UNIT.y + 8;
  const width = widget.width * UNIT.x - 16;
  const height = widget.height * UNIT.y - 16;
  const plot = { left: left + 44, top: top + 30, width: width - 56, height: height - 80 };
  const parts = [
    `<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="#fff" stroke="#d5dbdb"/>`,
    `<text x="${left + 10}" y="${top + 19}" font-size="13" font-weight="bold" fill="#16191f">${escape(widget.properties.title)}</text>`,
  ];
  if (series.length === 0) {
    const what = namespaces.every((namespace) => namespace.startsWith('AWS/'))
      ? `${[...new Set(namespaces)].join(', ')}: measured by AWS, not by a local run`
      : 'no data points in this run';
    parts.push(`<text x="${left + width / 2}" y="${top + height / 2}" font-size="12" fill="#879596" text-anchor="middle">${escape(what)}</text>`);
    return parts.join('');
  }
  const stacked = widget.properties.stacked;
  const drawn = stacked
    ? series.map((entry, index) => ({
        ...entry,
        points: entry.points.map((_, bucket) => series.slice(0, index + 1).reduce((sum, s) => sum + (s.points[bucket] ?? 0), 0)),
      }))
    : series;
  const annotations = widget.properties.annotations?.horizontal ?? [];
  const values = [...drawn.flatMap((entry) => entry.points.filter((point): point is number => point !== null)), ...annotations.map((a) => a.value)];
  const low = Math.min(0, ...values);
  const high = Math.max(...values) * 1.1 || 1;
  const buckets = drawn[0]!.points.length;
  const px = (bucket: number) => plot.left + (buckets === 1 ? plot.width / 2 : (bucket / (buckets - 1)) * plot.width);
  const py = (value: number) => plot.top + plot.height - ((value - low) / (high - low)) * plot.height;
  for (let tick = 0; tick <= 4; tick++) {
    const value = low + ((high - low) * tick) / 4;
    parts.push(`<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${py(value)}" y2="${py(value)}" stroke="#eaeded"/>`);
    parts.push(`<text x="${plot.left - 6}" y="${py(value) + 4}" font-size="10" fill="#687078" text-anchor="end">${format(value)}</text>`);
  }
  parts.push(`<text x="${plot.left}" y="${plot.top + plot.height + 14}" font-size="10" fill="#687078">0 s</text>`);
  parts.push(`<text x="${plot.left + plot.width}" y="${plot.top + plot.height + 14}" font-size="10" fill="#687078" text-anchor="end">${seconds.toFixed(1)} s</text>`);
  for (const annotation of annotations) {
    parts.push(`<line x1="${plot.left}" x2="${plot.left + plot.width}" y1="${py(annotation.value)}" y2="${py(annotation.value)}" stroke="#d62728" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${plot.left + plot.width}" y="${py(annotation.value) - 4}" font-size="10" fill="#d62728" text-anchor="end">${escape(annotation.label)} ${format(annotation.value)}</text>`);
  }
  drawn.forEach((entry, index) => {
    const color = COLORS[index % COLORS.length];
    const points = entry.points.map((point, bucket) => (point === null ? null : `${px(bucket).toFixed(1)},${py(point).toFixed(1)}`));
    // a gap in the data is a gap in the line, as CloudWatch draws it
    const runs = points.reduce<string[][]>((all, point) => (point === null ? [...all, []] : (all.at(-1)!.push(point), all)), [[]]).filter((run) => run.length);
    for (const run of runs) {
      if (run.length === 1) parts.push(`<circle cx="${run[0]!.split(',')[0]}" cy="${run[0]!.split(',')[1]}" r="2.5" fill="${color}"/>`);
      else parts.push(`<polyline points="${run.join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    const legendX = left + 10 + (index % 3) * ((width - 20) / 3);
    const legendY = top + height - 24 + Math.floor(index / 3) * 14;
    parts.push(`<rect x="${legendX}" y="${legendY - 8}" width="10" height="10" fill="${color}"/>`);
    parts.push(`<text x="${legendX + 14}" y="${legendY + 1}" font-size="10" fill="#16191f">${escape(entry.label.slice(0, 28))}</text>`);
  });
  return parts.join('');
}

/** The dashboard as an SVG, with `records` as the data. */
export function renderDashboard(body: { widgets: Widget[] }, records: EmfRecord[], caption: string): string {
  const start = Math.min(...records.map((record) => record.timestamp));
  const end = Math.max(...records.map((record) => record.timestamp));
  // A local run lasts seconds: few buckets, so each holds several invocations, as a minute would.
  const buckets = 8;
  const bucketMs = Math.max(1, Math.ceil((end - start + 1) / buckets));
  const width = 24 * UNIT.x;
  const height = Math.max(...body.widgets.map((widget) => widget.y + widget.height)) * UNIT.y + 40;
  const widgets = body.widgets.map((widget) => {
    const series = widget.properties.metrics.flatMap((line) => seriesOf(line, widget.properties.stat, records, start, bucketMs, buckets));
    const namespaces = widget.properties.metrics.map((line) => (typeof line[0] === 'string' ? line[0] : 'SEARCH'));
    return drawWidget(widget, series, namespaces, (end - start) / 1000);
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#f2f3f3"/>`,
    ...widgets,
    `<text x="10" y="${height - 14}" font-size="11" fill="#545b64">${escape(caption)}</text>`,
    '</svg>',
  ].join('\n');
}

function main(): void {
  const fromIndex = process.argv.indexOf('--from');
  let output: string;
  if (fromIndex > 0) {
    output = readFileSync(process.argv[fromIndex + 1]!, 'utf8');
  } else {
    const run = spawnSync('npm', ['start', '--silent', '--', '--verbose'], { cwd: root, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' }, timeout: 300_000 });
    output = `${run.stdout}${run.stderr}`;
    if (run.status !== 0) throw new Error(`npm start failed (${run.status}):\n${output}`);
  }
  const records = parseEmf(output.split('\n'));
  if (records.length === 0) throw new Error('the run wrote no EMF metric lines');
  const svg = renderDashboard(dashboardBody(DEV_DASHBOARD_SETTINGS), records, 'Dashboard leverage-guard-dev (infra/dashboard.cjs) with the function\'s metrics from one `npm start` run (local/events/default.json): seconds, not hours. Drawn by scripts/render-dashboard.ts.');
  writeFileSync(join(root, 'docs/dashboard.svg'), `${svg}\n`);
  console.log(`docs/dashboard.svg: ${records.length} EMF records`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) main();
