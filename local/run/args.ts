// Command line of `npm start` (local/run.ts).
import { parseArgs } from 'node:util';
import { DEFAULT_EVENTS_PATH } from './event-file.ts';

export interface RunOptions {
  help: boolean;
  serve: boolean;
  verbose: boolean;
  /** Given explicitly; the default set is used when absent (except in --serve). */
  eventsPath?: string;
  simulatorPort?: number;
  awsPort?: number;
  httpPort?: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  /** Run mode: give up waiting for outcomes after this long. */
  timeoutSeconds: number;
  /** --env KEY=VALUE: the function's configuration (caps, dry run, event age...). */
  functionEnv: Record<string, string>;
  /** --accounts <file>: extra simulator accounts (keys and positions). */
  accountsPath?: string;
  /** --json: print each outcome's full JSON and its SNS message attributes. */
  json: boolean;
}

/**
 * Set by the run itself: they wire the function to the simulator and moto. Overriding them could
 * point the simulator's test keys at another endpoint, so --env refuses them.
 */
export const WIRED_VARIABLES = [
  'BINANCE_SECRET_ID',
  'RESULT_TOPIC_ARN',
  'BINANCE_PAPI_URL',
  'BINANCE_TIME_URL',
  'MAX_RECEIVE_COUNT',
  'STATE_TABLE_NAME',
  'PAUSE_PARAMETER',
];

export const USAGE = `Usage: npm start [-- options]

Runs leverage-guard on this machine: the Binance PAPI simulator, moto (local SQS, SNS, Secrets
Manager, EventBridge), the built change-leverage function on AWS's Lambda Runtime Interface
Emulator and Node.js Runtime Interface Client, fed by a local SQS poller. Sends a set of risk events, prints each outcome as it is published to the
result topic, then a summary. Exit code 0 when every event reached its expected outcome.

Options:
  --events <file>          events to send (default ${DEFAULT_EVENTS_PATH}); a JSON object
                           {faults, sqs, eventBridge, scheduled, expect} or a plain array of risk
                           events (sent via SQS)
  --serve                  keep running as a local service until Ctrl-C: poll the queue, print
                           outcomes as they arrive, accept events on a local HTTP endpoint
  --http-port <port>       port of the --serve HTTP endpoint (default: a free port)
  --simulator-port <port>  port of the Binance simulator (default: a free port)
  --aws-port <port>        port of moto, the local AWS endpoint (default: a free port)
  --visibility-timeout <s> risk-event queue visibility timeout in seconds (default 2)
  --max-receive-count <n>  receives before a record goes to the DLQ (default 3)
  --timeout <s>            give up waiting for outcomes after this long (default 45)
  --env KEY=VALUE          function configuration, repeatable, e.g. --env DRY_RUN=true
                           --env 'LEVERAGE_CAPS={"BTCUSDT":3}' --env MAX_EVENT_AGE_SECONDS=60
                           (README, Configuration; the variables that wire the function to
                           the simulator and moto cannot be changed, nor AWS_*). Variables of
                           your shell are not passed to the function: only --env is.
  --accounts <file>        more simulator accounts (and their secrets), a JSON array of
                           {"name", "apiKey"?, "apiSecret"? | "privateKey"?, "positions"?,
                           "leverage"?}; README, Running locally
  --json                   print each outcome's full JSON and its SNS message attributes,
                           as a subscriber receives them
  --verbose                print the function's log lines
  --help                   this text

Everything listens on 127.0.0.1 only.`;

export class UsageError extends Error {
  override name = 'UsageError';
}

function integer(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return number;
}

function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    const name = at < 0 ? pair : pair.slice(0, at);
    if (at < 0 || !/^[A-Z_][A-Z0-9_]*$/.test(name)) {
      throw new UsageError(`--env takes KEY=VALUE with an uppercase variable name, got ${JSON.stringify(pair)}`);
    }
    if (WIRED_VARIABLES.includes(name) || name.startsWith('AWS_')) {
      throw new UsageError(`--env ${name}: set by the local run (it wires the function to the simulator and moto)`);
    }
    env[name] = pair.slice(at + 1);
  }
  return env;
}

export function parseRunArgs(argv: string[]): RunOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        help: { type: 'boolean', short: 'h' },
        serve: { type: 'boolean' },
        verbose: { type: 'boolean', short: 'v' },
        events: { type: 'string' },
        'simulator-port': { type: 'string' },
        'aws-port': { type: 'string' },
        'http-port': { type: 'string' },
        'visibility-timeout': { type: 'string' },
        'max-receive-count': { type: 'string' },
        timeout: { type: 'string' },
        env: { type: 'string', multiple: true },
        accounts: { type: 'string' },
        json: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    help: values.help ?? false,
    serve: values.serve ?? false,
    verbose: values.verbose ?? false,
    eventsPath: values.events,
    simulatorPort: integer(values['simulator-port'], '--simulator-port', 1, 65535),
    awsPort: integer(values['aws-port'], '--aws-port', 1, 65535),
    httpPort: integer(values['http-port'], '--http-port', 1, 65535),
    visibilityTimeoutSeconds: integer(values['visibility-timeout'], '--visibility-timeout', 1, 43200) ?? 2,
    maxReceiveCount: integer(values['max-receive-count'], '--max-receive-count', 1, 1000) ?? 3,
    timeoutSeconds: integer(values.timeout, '--timeout', 1, 3600) ?? 45,
    functionEnv: parseEnv(values.env ?? []),
    accountsPath: values.accounts,
    json: values.json ?? false,
  };
}
