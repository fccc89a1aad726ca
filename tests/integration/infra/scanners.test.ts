// Real template scanners on what `npm run package` produces for dev and for prod: AWS's cfn-lint
// with AWS's serverless rules (cfn-lint-serverless), and checkov (offline). Every finding is either
// fixed or suppressed in the template next to the resource, with a one-line reason; this test
// fails on any other finding and on a suppression without a reason.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type JsonObject, packageStack, ROOT, type Template } from './template.ts';

jest.setTimeout(240_000);

const VENV = path.join(ROOT, '.venv/bin');
const PROD_REQUIRED = { alarmEmail: 'oncall@example.com', riskEventProducers: 'arn:aws:iam::111122223333:role/risk-engine' };
let files: string[];
let templates: Template[];

beforeAll(() => {
  // Installs (or, when requirements-dev.txt is unchanged, keeps) cfn-lint, its serverless rules and checkov.
  const setup = spawnSync('bash', ['scripts/setup-python.sh'], { cwd: ROOT, encoding: 'utf8' });
  if (setup.status !== 0) throw new Error(`scripts/setup-python.sh failed:\n${setup.stderr}`);
  const dev = packageStack('dev', { outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-scan-dev-')) });
  const prod = packageStack('prod', { outDir: mkdtempSync(path.join(tmpdir(), 'leverage-guard-scan-prod-')), params: PROD_REQUIRED });
  files = [dev, prod].map((packaged) => path.join(packaged.outDir, 'cloudformation-template-update-stack.json'));
  templates = [dev.template, prod.template];
});

test('cfn-lint with the serverless rules finds nothing in the dev and prod templates', () => {
  for (const file of files) {
    const lint = spawnSync(path.join(VENV, 'cfn-lint'), [file, '-a', 'cfn_lint_serverless.rules'], { encoding: 'utf8' });
    expect({ file, status: lint.status, output: `${lint.stdout}${lint.stderr}` }).toEqual({ file, status: 0, output: '' });
  }
});

test('the serverless rules are really loaded (a DLQ without its suppression is reported)', () => {
  // Guards the test above: a misspelt -a module would silently lint with the default rules only.
  const unsuppressed = JSON.parse(JSON.stringify(templates[0])) as Template;
  delete (unsuppressed.Resources.EventBridgeDlq as unknown as JsonObject).Metadata;
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'leverage-guard-scan-')), 'template.json');
  writeFileSync(file, JSON.stringify(unsuppressed));
  const lint = spawnSync(path.join(VENV, 'cfn-lint'), [file, '-a', 'cfn_lint_serverless.rules'], { encoding: 'utf8' });
  expect(lint.stdout).toMatch(/ES6000 SQS Queue EventBridgeDlq/);
});

test('checkov (CloudFormation, offline) finds nothing in the dev and prod templates', () => {
  const checkov = spawnSync(
    path.join(VENV, 'checkov'),
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
