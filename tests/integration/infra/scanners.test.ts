// Real template scanners on what `npm run package` produces for dev and for prod: AWS's cfn-lint
// with AWS's serverless rules (cfn-lint-serverless), and checkov (offline). Every finding is either
// fixed or suppressed in the template next to the resource, with a one-line reason; this test
// fails on any other finding and on a suppression without a reason.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensurePythonTools, type JsonObject, packageStack, ROOT, type Template } from './template.ts';

jest.setTimeout(240_000);

const VENV = path.join(ROOT, '.venv/bin');
// checkov lives in a venv of its own (requirements-checkov.txt says why).
const CHECKOV = path.join(ROOT, '.venv-checkov/bin/checkov');
const PROD_REQUIRED = { alarmEmail: 'oncall@example.com', riskEventProducers: 'arn:aws:iam::111122223333:role/risk-engine' };
let files: string[];
let templates: Template[];
/** A copy of the dev template with one suppression removed, to prove the serverless rules run. */
let unsuppressedFile: string;
/** cfn-lint's findings, one run over all three templates (its start-up is most of its time). */
let lint: { status: number | null; output: string };

beforeAll(() => {
  ensurePythonTools();
  const dev = packageStack('dev', { outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-scan-dev-')) });
  const prod = packageStack('prod', { outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-scan-prod-')), params: PROD_REQUIRED });
  files = [dev, prod].map((packaged) => path.join(packaged.outDir, 'cloudformation-template-update-stack.json'));
  templates = [dev.template, prod.template];
  const unsuppressed = JSON.parse(JSON.stringify(dev.template)) as Template;
  delete (unsuppressed.Resources.EventBridgeDlq as unknown as JsonObject).Metadata;
  unsuppressedFile = path.join(mkdtempSync(path.join(tmpdir(), 'leverage-guard-scan-')), 'unsuppressed.json');
  writeFileSync(unsuppressedFile, JSON.stringify(unsuppressed));
  const run = spawnSync(path.join(VENV, 'cfn-lint'), [...files, unsuppressedFile, '-a', 'cfn_lint_serverless.rules'], { encoding: 'utf8' });
  lint = { status: run.status, output: `${run.stdout}${run.stderr}` };
});

/** cfn-lint's findings for one file (each finding names its file on the line after it). */
const findingsFor = (file: string) =>
  lint.output
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => block.includes(file));

test('cfn-lint with the serverless rules finds nothing in the dev and prod templates', () => {
  for (const file of files) expect({ file, findings: findingsFor(file) }).toEqual({ file, findings: [] });
});

test('the serverless rules are really loaded (a DLQ without its suppression is reported)', () => {
  // Guards the test above: a misspelt -a module would silently lint with the default rules only.
  expect(findingsFor(unsuppressedFile)).toEqual([expect.stringMatching(/^ES6000 SQS Queue EventBridgeDlq should have a RedrivePolicy/)]);
  expect(lint.status).not.toBe(0);
});

test('checkov (CloudFormation, offline) finds nothing in the dev and prod templates', () => {
  const checkov = spawnSync(
    CHECKOV,
    ['--skip-download', '--framework', 'cloudformation', '--compact', '--quiet', '--output', 'json', ...files.flatMap((file) => ['-f', file])],
    { encoding: 'utf8', env: { ...process.env, BC_SKIP_MAPPING: 'TRUE' }, timeout: 180_000 },
  );
  const report = JSON.parse(checkov.stdout);
  const reports = Array.isArray(report) ? report : [report];
  const failed = reports.flatMap((entry) => entry.results?.failed_checks ?? []).map((check: JsonObject) => `${check.check_id} ${check.resource}`);
  expect(failed).toEqual([]);
  expect(reports.reduce((sum, entry) => sum + (entry.summary?.passed ?? 0), 0)).toBeGreaterThan(20);
  expect(checkov.status).toBe(0);
});

test('every suppression carries its reason', () => {
  for (const template of templates) {
    for (const [id, resource] of Object.entries(template.Resources as Record<string, { Metadata?: any }>)) {
      for (const skip of resource.Metadata?.checkov?.skip ?? []) {
        expect([id, skip.id, typeof skip.comment === 'string' && skip.comment.length > 20]).toEqual([id, skip.id, true]);
      }
      for (const rule of resource.Metadata?.['cfn-lint']?.config?.ignore_checks ?? []) {
        expect([id, rule, String(resource.Metadata.SuppressionReasons?.[rule] ?? '').length > 20]).toEqual([id, rule, true]);
      }
    }
  }
});
