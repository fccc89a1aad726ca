/**
 * `npm start`: leverage-guard end to end on this machine, no AWS or Binance account needed.
 * Starts the Binance PAPI simulator and moto, creates the resources, runs the built function in a
 * AWS's Runtime Interface Emulator + Runtime Interface Client fed by a local SQS poller, sends a set of risk events through SQS,
 * EventBridge and a scheduled invocation, prints every outcome as the result topic publishes it,
 * then a summary. `--serve` keeps it running as a local service instead. See `npm start -- --help`.
 */
import { createPublicKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { drainQueue, startLocalAws } from './aws/index.ts';
import { ConfigError, loadConfig } from '../functions/change-leverage/config.ts';
import { defaultSeed, type SimulatorAccountSeed, startBinanceSimulator } from './binance-simulator/index.ts';
import type { FaultRule } from './binance-simulator/types.ts';
import { loadTestCredentials, startLocalLeverageGuard } from './stack.ts';
import { type LocalAccounts, loadAccounts } from './run/accounts.ts';
import { parseRunArgs, type RunOptions, USAGE, UsageError } from './run/args.ts';
import { ensureBundle } from './run/bundle.ts';
import { DEFAULT_EVENTS_PATH, type EventFile, EventFileError, loadEventFile } from './run/event-file.ts';
import { outcomeLine, seconds, style, summaryTable, totalsLine } from './run/report.ts';
import { serve } from './run/serve.ts';
import { type RunningStack, Session, type SessionListener } from './run/session.ts';
import { displayId, Tracker } from './run/tracker.ts';

// The system Node may be 20; the SDK's end-of-support warning is noise in a local run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const FUNCTION_TIMEOUT_MS = 15_000;
const MOTO_BINARY = '.venv/bin/moto_server';
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

const print = (line = ''): void => void process.stdout.write(`${line}\n`);

function describeFault(rule: FaultRule): string {
  const { type, ...details } = rule.fault;
  const params = Object.keys(details).length > 0 ? JSON.stringify(details) : '';
  const where = [rule.method, rule.path, rule.symbol].filter(Boolean).join(' ') || 'any request';
  const times = rule.times === undefined || rule.times === 1 ? 'once' : rule.times < 0 ? 'always' : `${rule.times} times`;
  return `${type}${params} ${times} on ${where}`;
}

function consoleListener(options: RunOptions): SessionListener {
  return {
    onHandedBack: (redelivered, toDlq) => {
      if (redelivered.length > 0) {
        print(style.cyan(`         ↻ handed back to SQS: ${redelivered.map(displayId).join(', ')} (redelivered after the ${options.visibilityTimeoutSeconds} s visibility timeout)`));
      }
      if (toDlq.length > 0) {
        print(style.cyan(`         ↻ handed back on the last allowed receive: ${toDlq.map(displayId).join(', ')} (SQS moves it to the DLQ)`));
      }
    },
    onAsyncFailure: (event, attempt, message, willRetry) =>
      print(style.cyan(`         ↻ ${event.channel} invocation of ${displayId(event)} failed (attempt ${attempt}): ${message}${willRetry ? '; Lambda retries it' : '; no retries left'}`)),
    onWarning: (message) => print(style.red(`         ! ${message}`)),
  };
}

/**
 * --env values checked by the function's own configuration loader now, so a malformed
 * LEVERAGE_CAPS is a usage error here rather than a function that refuses to start later.
 */
function checkFunctionEnv(env: Record<string, string>): void {
  try {
    loadConfig({ BINANCE_SECRET_ID: 'local/{accountId}', RESULT_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:local', ...env });
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`--env: ${error.message}`);
    throw error;
  }
}

/** The simulator's own accounts, with those of --accounts added (or replacing same-named ones). */
function simulatorSeed(accounts: LocalAccounts | undefined) {
  const seed = defaultSeed();
  if (!accounts) return seed;
  const replaced = new Set(accounts.seeds.map((account) => account.name));
  return { ...seed, accounts: [...seed.accounts.filter((account) => !replaced.has(account.name)), ...accounts.seeds] };
}

function keyType(account: SimulatorAccountSeed): string {
  if (!account.publicKeyPem) return 'HMAC';
  return createPublicKey(account.publicKeyPem).asymmetricKeyType === 'ed25519' ? 'Ed25519' : 'RSA';
}

/** An outcome as a subscriber receives it: the message and its SNS message attributes. */
function printPublished(outcome: unknown, attributes: Record<string, string>): void {
  for (const line of JSON.stringify({ outcome, messageAttributes: attributes }, null, 2).split('\n')) print(style.dim(`         ${line}`));
}

async function startEverything(options: RunOptions, file: EventFile | undefined, accounts: LocalAccounts | undefined): Promise<RunningStack> {
  print(style.bold('leverage-guard, local run'));
  print(`  bundle     ${ensureBundle()}`);
  const seed = simulatorSeed(accounts);
  const simulator = await startBinanceSimulator({ port: options.simulatorPort ?? 0, seed });
  if (!existsSync(MOTO_BINARY)) print(`  moto       installing into .venv with scripts/setup-python.sh (first run only)…`);
  const aws = await startLocalAws({ port: options.awsPort }).catch(async (error: unknown) => {
    await simulator.close();
    throw error;
  });
  const onLog = options.verbose ? (line: string) => print(style.dim(`         │ ${line}`)) : undefined;
  const guard = await startLocalLeverageGuard({
    name: 'leverage-guard',
    simulator,
    aws,
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount,
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
    onLog,
    env: options.functionEnv,
    credentials: { ...loadTestCredentials(), ...accounts?.credentials },
  }).catch(async (error: unknown) => {
    await aws.stop();
    await simulator.close();
    throw error;
  });
  const { resources } = guard;
  print(`  simulator  ${simulator.url}  (Binance PAPI; accounts ${seed.accounts.map((account) => `${account.name} ${keyType(account)}`).join(', ')})`);
  print(`  aws        ${aws.endpoint}  (moto: SQS, SNS, Secrets Manager, EventBridge)`);
  print(`  queue      ${resources.queueUrl}  (visibility ${options.visibilityTimeoutSeconds} s, DLQ after ${options.maxReceiveCount} receives)`);
  print(`  bus        ${resources.eventBusName}, rule ${resources.ruleName}`);
  print(`  runtime    aws-lambda-rie + aws-lambda-ric on Node 22 (AWS's own Lambda runtime pieces), timeout ${FUNCTION_TIMEOUT_MS / 1000} s`);
  print(`  topic      ${resources.topicArn}  → ${resources.outcomesQueueUrl}`);
  const overrides = Object.entries(options.functionEnv);
  if (overrides.length > 0) print(`  env        ${overrides.map(([name, value]) => `${name}=${value}`).join(' ')}`);
  for (const rule of file?.faults ?? []) {
    simulator.injectFault(rule);
    print(`  fault      ${describeFault(rule)}`);
  }

  let flowStartedAt = Date.now();
  const tracker = new Tracker(
    { onOutcome: (outcome, event) => print(outcomeLine(outcome, event, Date.now() - flowStartedAt)) },
    { expectations: file?.expect, adoptUnmatched: options.serve },
  );
  const session = new Session({
    guard,
    tracker,
    listener: consoleListener(options),
    maxReceiveCount: options.maxReceiveCount,
    functionTimeoutMs: FUNCTION_TIMEOUT_MS,
    onLog,
    onPublished: options.json ? printPublished : undefined,
  });
  session.start();
  flowStartedAt = Date.now();
  return {
    guard,
    tracker,
    session,
    // Best effort, every step: on Ctrl-C the terminal signals moto too, so it may be gone already.
    async close() {
      for (const step of [() => session.stop(), () => guard.close(), () => aws.stop(), () => simulator.close()]) {
        await step().catch(() => undefined);
      }
    },
  };
}

/** Sends every event of the file through its channel, in file order per channel. */
async function sendEventFile(session: Session, file: EventFile): Promise<void> {
  if (file.sqs.length > 0) {
    await session.sendToQueue(file.sqs);
    print(style.dim(`         → ${file.sqs.length} event(s) sent to the SQS queue`));
  }
  if (file.eventBridge.length > 0) {
    await session.putOnBus(file.eventBridge);
    print(style.dim(`         → ${file.eventBridge.length} event(s) put on the EventBridge bus`));
  }
  if (file.scheduled.length > 0) {
    session.invokeScheduled(file.scheduled);
    const names = file.scheduled.map((entry) => entry.schedule).filter(Boolean);
    print(style.dim(`         → ${file.scheduled.length} scheduled invocation(s)${names.length ? ` (${names.join(', ')})` : ''}`));
  }
}

async function runOnce(options: RunOptions, file: EventFile, eventsPath: string, accounts: LocalAccounts | undefined): Promise<number> {
  const started = Date.now();
  const run = await startEverything(options, file, accounts);
  const { tracker, session, guard } = run;
  // Ctrl-C or a kill mid-run: stop moto and the containers rather than leave them behind.
  const interrupt = (signal: NodeJS.Signals) => {
    print(`\n${signal}: stopping.`);
    void run.close().finally(() => process.exit(EXIT_INTERRUPTED));
  };
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  let exitCode = EXIT_FAILED;
  try {
    print(`  events     ${eventsPath}${file.description ? `: ${file.description}` : ''}`);
    print(`  ready in   ${seconds(Date.now() - started)}`);
    print();
    await sendEventFile(session, file);
    const settled = await tracker.settled(Date.now() + options.timeoutSeconds * 1000, () => session.idle());
    if (!settled) {
      const pending = tracker.pending().map(displayId);
      const what = pending.length > 0 ? `${pending.join(', ')} without an outcome` : 'records still on the risk-event queue';
      print(style.red(`         ! gave up after ${options.timeoutSeconds} s: ${what}`));
    }
    await session.stop();
    // Settled means the risk-event queue is empty, so records SQS gave up on are in the DLQ now.
    const dead = await drainQueue(guard.aws.clients.sqs, guard.resources.dlqUrl);

    print();
    print(summaryTable(tracker));
    print();
    print(totalsLine(tracker.events));
    const dlqIds = dead.map((message) => {
      const event = tracker.findByRecordId(message.messageId);
      return event ? displayId(event) : message.messageId;
    });
    print(`DLQ: ${dead.length} message(s)${dead.length > 0 ? ` (${dlqIds.join(', ')})` : ''}`);
    const problems = [
      ...tracker.problems(),
      ...tracker.unmatched.map((outcome) => `${outcome.eventId}: an outcome for an event this run did not send`),
    ];
    if (!settled && problems.length === 0) problems.push(`still delivering after ${options.timeoutSeconds} s`);
    const checked = tracker.checkedCount();
    if (problems.length === 0) {
      print(style.green(`OK: every event reached a final outcome${checked ? ` (${checked} checked against ${eventsPath})` : ''}`));
      exitCode = EXIT_OK;
    } else {
      print(style.red(`NOT OK: ${problems.length} problem(s):`));
      for (const problem of problems) print(style.red(`  ${problem}`));
    }
  } finally {
    await run.close();
  }
  print(style.dim(`Done in ${seconds(Date.now() - started)}.`));
  return exitCode;
}

async function main(argv: string[]): Promise<number> {
  let options: RunOptions;
  let file: EventFile | undefined;
  let eventsPath: string | undefined;
  let accounts: LocalAccounts | undefined;
  try {
    options = parseRunArgs(argv);
    if (options.help) {
      print(USAGE);
      return EXIT_OK;
    }
    // --serve sends nothing unless given a file; a run sends the default set unless given one.
    eventsPath = options.eventsPath ?? (options.serve ? undefined : DEFAULT_EVENTS_PATH);
    if (eventsPath) file = loadEventFile(eventsPath);
    checkFunctionEnv(options.functionEnv);
    if (options.accountsPath) accounts = loadAccounts(options.accountsPath);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof EventFileError)) throw error;
    process.stderr.write(`npm start: ${error.message}\n${error instanceof UsageError ? 'See `npm start -- --help`.\n' : ''}`);
    return EXIT_USAGE;
  }
  if (options.serve) return serve(await startEverything(options, file, accounts), { httpPort: options.httpPort, file, sendEventFile });
  return runOnce(options, file!, eventsPath!, accounts);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // The message says what broke (a failed build, moto not starting, a port in use); the stack
    // only matters when debugging the runner itself.
    const detail = error instanceof Error && process.argv.includes('--verbose') ? `\n${error.stack}` : '';
    process.stderr.write(`npm start failed: ${error instanceof Error ? error.message : String(error)}${detail}\n`);
    process.exit(EXIT_FAILED);
  },
);
