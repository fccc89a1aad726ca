// `npm run package`: one self-contained, reproducible directory, and the same safety checks for a
// --param override as for the committed defaults, failing with one clear line.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ensurePythonTools, type JsonObject, type Packaged, packageStack, readZip, resourcesOfType, ROOT } from './template.ts';

jest.setTimeout(180_000);

const load = createRequire(path.join(ROOT, 'package.json'));
const { checkStage } = load('./infra/safety-params.cjs') as { checkStage: (stage: string, params: Record<string, unknown>) => string };
const producers = load('./infra/producers.cjs') as (context: { resolveVariable: (v: string) => Promise<unknown> }) => Promise<Record<string, any>>;
const PROD_REQUIRED = { alarmEmail: 'oncall@example.com', riskEventProducers: 'arn:aws:iam::111122223333:role/risk-engine' };

let first: Packaged;
let second: Packaged;
const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const outDir = (name: string) => mkdtempSync(path.join(tmpdir(), `leverage-guard-${name}-`));

/** What `npm run package` printed when it failed, as an operator runs it ('' if it succeeded). */
function failingPackage(stage: string, params: Record<string, string>): string {
  try {
    packageStack(stage, { outDir: outDir('bad'), params });
  } catch (error) {
    return (error as Error).message; // "npm run package failed (<status>):\n<output>"
  }
  return '';
}

beforeAll(() => {
  ensurePythonTools();
  first = packageStack('dev', { outDir: outDir('package-1') });
  second = packageStack('dev', { outDir: outDir('package-2') });
});

describe('the package directory', () => {
  test('holds the templates, the state and the function zip', () => {
    expect(readdirSync(first.outDir).sort()).toEqual([
      'change-leverage.zip',
      'cloudformation-template-create-stack.json',
      'cloudformation-template-update-stack.json',
      'serverless-state.json',
    ]);
    const [, fn] = resourcesOfType(first.template, 'AWS::Lambda::Function')[0]!;
    expect(String((fn.Properties.Code as JsonObject).S3Key)).toMatch(/\/change-leverage\.zip$/);
  });

  test('names no path of the machine that packaged it, and the state points osls at the zip inside', () => {
    for (const file of readdirSync(first.outDir).filter((name) => name.endsWith('.json'))) {
      const text = readFileSync(path.join(first.outDir, file), 'utf8');
      expect([file, text.includes(ROOT), text.includes(path.dirname(first.artifact)), text.includes(tmpdir())]).toEqual([file, false, false, false]);
    }
    const state = JSON.parse(readFileSync(path.join(first.outDir, 'serverless-state.json'), 'utf8'));
    // no artifact path: `osls deploy --package <dir>` then takes <dir>/change-leverage.zip (deploy.test.ts deploys it)
    expect(state.service.functions['change-leverage'].package.artifact).toBeUndefined();
  });

  test('the zip is the bundle, and packaging the same bundle twice gives the same bytes', () => {
    const zip = path.join(first.outDir, 'change-leverage.zip');
    const entries = readZip(zip);
    expect([...entries.keys()]).toEqual(['index.mjs']);
    expect(entries.get('index.mjs')!.equals(readFileSync(path.join(first.bundleDir, 'index.mjs')))).toBe(true);
    expect(sha(zip)).toBe(sha(path.join(second.outDir, 'change-leverage.zip')));
    // Python's zipfile, an independent reader, agrees (fflate wrote a standard archive)
    const python = spawnSync(path.join(ROOT, '.venv/bin/python'), ['-c', 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); print(z.testzip(), oct(z.infolist()[0].external_attr >> 16))', zip], { encoding: 'utf8' });
    expect(python.stdout.trim()).toBe('None 0o100644');
  });

  test('the zip is written by a library, not by hand', () => {
    const script = readFileSync(path.join(ROOT, 'scripts/package.ts'), 'utf8');
    expect(script).toMatch(/from 'fflate'/);
    expect(script).not.toMatch(/0x04034b50|writeUInt32LE/);
  });
});

describe('every param, default or --param override, passes the same checks', () => {
  const devDefaults = () => ({ ...first.params });
  const prodDefaults = () => ({ ...first.params, leverageCaps: { BTCUSDT: 20, ETHUSDT: 20, '*': 10 }, logRetentionInDays: 90, ...PROD_REQUIRED });

  test('the committed dev and prod settings pass', () => {
    expect(checkStage('dev', devDefaults())).toBe('checked');
    expect(checkStage('prod', prodDefaults())).toBe('checked');
  });

  test.each([
    ['visibility timeout below 6x the function timeout', { visibilityTimeout: '179' }, /^param visibilityTimeout: must be at least 6 x functionTimeout \(6 x 30 = 180 s\), got 179$/],
    ['a longer function timeout without a longer visibility timeout', { functionTimeout: '60' }, /^param visibilityTimeout: .*6 x 60 = 360 s/],
    ['an event age shorter than the retry span', { maxEventAgeSeconds: '600' }, /^param maxEventAgeSeconds: must be at least \(maxReceiveCount - 1\) x visibilityTimeout = 720 s, got 600$/],
    ['more receives stretching the retry span past the event age', { maxReceiveCount: '7' }, /^param maxEventAgeSeconds: .*= 1080 s, got 900$/],
    ['an SQS maximum concurrency below 2', { sqsMaximumConcurrency: '1' }, /^param sqsMaximumConcurrency: must be at least 2/],
    ['reserved concurrency not above the SQS maximum', { reservedConcurrency: '2' }, /^param reservedConcurrency: must be above sqsMaximumConcurrency \(2\), got 2$/],
    ['a request timeout that leaves no room before the function timeout', { binanceRequestTimeoutMs: '29000' }, /^param binanceRequestTimeoutMs: 29000 ms does not fit the function timeout \(functionTimeout 30 s, of which the last 1500 ms are kept to publish outcomes\): no record could ever start; use at most 28500 ms or raise functionTimeout$/],
    ['a cap out of range', { leverageCaps: '{"BTCUSDT":200,"*":10}' }, /^param leverageCaps: BTCUSDT: the cap must be a whole number from 1 to 125, got 200$/],
    ['a number that is not one', { functionTimeout: '30s' }, /^param functionTimeout: must be a whole number >= 1, got "30s"$/],
  ])('dev: %s fails', (_what, override, message) => {
    expect(() => checkStage('dev', { ...devDefaults(), ...override })).toThrow(message);
  });

  test.each([
    ['no caps', { leverageCaps: '' }, 'leverageCaps', 'needs caps with a "*" entry'],
    ['caps without a "*" entry', { leverageCaps: '{"BTCUSDT":20}' }, 'leverageCaps', 'needs caps with a "*" entry'],
    ['no alarm subscriber', { alarmEmail: '' }, 'alarmEmail', 'has no alarm subscriber: set alarmEmail in infra/config/<stage>.yml or --param="alarmEmail='],
    ['no producers', { riskEventProducers: '' }, 'riskEventProducers', 'names no producers: set riskEventProducers in infra/config/<stage>.yml'],
  ])('prod (any stage but dev): %s fails', (_what, override, param, detail) => {
    for (const stage of ['prod', 'staging']) {
      const expected = `param ${param}: stage ${stage} ${detail.replace('<stage>', stage)}`;
      expect(() => checkStage(stage, { ...prodDefaults(), ...override })).toThrow(expected);
    }
  });

  test('an operator who subscribes on-call another way opts out explicitly', () => {
    expect(checkStage('prod', { ...prodDefaults(), alarmEmail: '', alarmSubscriberOptOut: 'true' })).toBe('checked');
    expect(() => checkStage('prod', { ...prodDefaults(), alarmEmail: '', alarmSubscriberOptOut: 'yes' })).toThrow(/^param alarmSubscriberOptOut: must be true or false/);
  });

  test('a malformed producer ARN is refused, naming it', async () => {
    const resolve = (value: string) => async (variable: string) => (variable === 'param:riskEventProducers' ? value : 'leverage-guard-prod-risk');
    await expect(producers({ resolveVariable: resolve('arn:aws:iam::111122223333:user') })).rejects.toThrow(
      /^param riskEventProducers: "arn:aws:iam::111122223333:user" is neither a role ARN/,
    );
    const resources = await producers({ resolveVariable: resolve('arn:aws:iam::111122223333:role/a, arn:aws:iam::444455556666:root') });
    const deny = resources.RiskQueuePolicy.Properties.PolicyDocument.Statement[1];
    // an account entry admits that account's principals (aws:PrincipalArn is never the :root ARN)
    expect(deny.Condition.ArnNotLike['aws:PrincipalArn']).toEqual(['arn:aws:iam::111122223333:role/a', 'arn:aws:iam::444455556666:*']);
  });

  test('npm run package with a bad override exits non-zero with one line naming the param, no stack trace', () => {
    const failure = failingPackage('dev', { visibilityTimeout: '60' });
    expect(failure).toMatch(/^npm run package failed \(1\)/);
    const output = failure.slice(failure.indexOf('\n') + 1);
    const lines = output.split('\n').filter((line) => line.startsWith('package: param'));
    expect(lines).toEqual(['package: param visibilityTimeout: must be at least 6 x functionTimeout (6 x 30 = 180 s), got 60']);
    expect(output).not.toMatch(/^\s+at /m);
  });

  test('npm run package --stage prod without an alarm subscriber says how to set one', () => {
    const failure = failingPackage('prod', { riskEventProducers: PROD_REQUIRED.riskEventProducers });
    expect(failure).toContain('package: param alarmEmail: stage prod has no alarm subscriber: set alarmEmail in infra/config/prod.yml');
    expect(failure).toContain('--param="alarmSubscriberOptOut=true"');
    expect(failure).not.toMatch(/^\s+at /m);
  });
});
