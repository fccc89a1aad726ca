// Pieces of the benchmark report that are pure: the SVG bar chart, the profile's grouping, the
// deployment parameters the Scale section reads.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { analyseProfile } from '../../../bench/profile.ts';
import { readDeploymentParams } from '../../../bench/scale.ts';
import { barChart } from '../../../bench/svg-chart.ts';

describe('barChart', () => {
  const svg = barChart({
    title: 'CPU <per> record',
    unit: 'µs',
    bars: [
      { label: 'bare call', value: 200, series: 'a' },
      { label: 'function', value: 800, series: 'b' },
      { label: 'not measured', value: Number.NaN },
    ],
    markers: [{ value: 800, label: 'target: 4× bare' }],
  });

  test('one bar per measured value, a legend entry per series, the marker line and its label', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // 2 bars + 2 legend swatches + the background
    expect(svg.match(/<rect /g)).toHaveLength(5);
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('target: 4× bare');
    expect(svg).not.toContain('not measured');
  });

  test('text is escaped', () => {
    expect(svg).toContain('CPU &lt;per&gt; record');
  });

  test('bar lengths are proportional to the values', () => {
    const widths = [...svg.matchAll(/<rect x="330" y="[\d.]+" width="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(widths).toHaveLength(2);
    expect(widths[1]! / widths[0]!).toBeCloseTo(4, 5);
  });
});

test('analyseProfile groups self time by category, counts natives for their caller, and leaves idle out', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-profile-'));
  const bundle = path.join(dir, 'index.mjs');
  writeFileSync(bundle, '');
  writeFileSync(`${bundle}.map`, JSON.stringify({ version: 3, sources: [], names: [], mappings: '' }));
  const frame = (id: number, functionName: string, url: string, children: number[] = []) => ({ id, callFrame: { functionName, url, lineNumber: 0, columnNumber: 0 }, children });
  const profile = {
    nodes: [
      frame(1, '(root)', '', [2, 5, 6]),
      frame(2, 'digest', 'node:internal/crypto/hash', [3]),
      frame(3, 'update', '', []), // a native binding called by crypto code
      frame(5, 'stringify', ''),
      frame(6, '(idle)', ''),
      frame(4, 'unused', pathToFileURL(bundle).href),
    ],
    startTime: 0,
    endTime: 1000,
    // ms of self time: crypto 1 + native update 2, JSON 1, idle 5 (excluded)
    samples: [2, 3, 3, 5, 6, 6, 6, 6, 6],
    timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
  };
  const file = path.join(dir, 'p.cpuprofile');
  writeFileSync(file, JSON.stringify(profile));
  const summary = analyseProfile(file, bundle, 4);
  expect(summary.busyMs).toBeCloseTo(4, 6);
  expect(Object.fromEntries(summary.byCategory.map((g) => [g.name, g.ms]))).toEqual({ 'node:crypto (HMAC, hashes)': 3, 'JSON.parse / JSON.stringify': 1 });
});

test('the Scale section reads the deployed parameters from infra/config', () => {
  const params = readDeploymentParams();
  expect(params.batchSize).toBeGreaterThan(0);
  expect(params.sqsMaximumConcurrency).toBeLessThan(params.reservedConcurrency);
  expect(params.maxEventAgeSeconds).toBeGreaterThan(0);
});
