/**
 * The whole of leverage-guard on one machine, with no AWS or Binance account: the Binance PAPI
 * simulator, moto for SQS/SNS/Secrets Manager/EventBridge, the resources the infra defines, and
 * the built function on AWS's own Lambda runtime pieces (Runtime Interface Emulator + Node.js
 * Runtime Interface Client, local/lambda/) fed by a local SQS poller. `npm start` and the
 * integration tests both stand on this one composition.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import {
  createLocalStack,
  createSqsPoller,
  type LocalAws,
  localAwsEnv,
  type LocalStack,
  type Outcome,
  readOutcomes,
  type SqsPoller,
  startLocalAws,
} from './aws/index.ts';
import { type BinanceSimulator, startBinanceSimulator } from './binance-simulator/index.ts';
import { LambdaHost } from './lambda/lambda-host.ts';

export const BUNDLE_PATH = 'dist/change-leverage/index.mjs';
const TEST_CREDENTIALS_PATH = 'local/binance-simulator/test-credentials.json';

export interface LocalLeverageGuardOptions {
  /** Resource name prefix (parallel stacks in one moto must differ). */
  name?: string;
  maxReceiveCount?: number;
  /** Short in tests so redeliveries happen within seconds. */
  visibilityTimeoutSeconds?: number;
  batchSize?: number;
  functionTimeoutMs?: number;
  fifo?: boolean;
  /** Extra or overriding function environment variables. */
  env?: Record<string, string>;
  /** Secret JSON per account id (default: the simulator's test credentials). */
  credentials?: Record<string, object>;
  /** Receives the function's log lines. */
  onLog?: (line: string) => void;
  /** Reuse a running simulator / local AWS instead of starting new ones. */
  simulator?: BinanceSimulator;
  aws?: LocalAws;
}

export interface LocalLeverageGuard {
  simulator: BinanceSimulator;
  aws: LocalAws;
  resources: LocalStack;
  host: LambdaHost;
  poller: SqsPoller;
  /** The function's environment, as the host passes it. */
  functionEnv: Record<string, string>;
  invoke<T = unknown>(event: unknown): Promise<T>;
  readOutcomes<T = Record<string, unknown>>(count: number, timeoutMs?: number): Promise<Outcome<T>[]>;
  close(): Promise<void>;
}

export function loadTestCredentials(): Record<string, object> {
  return JSON.parse(readFileSync(TEST_CREDENTIALS_PATH, 'utf8')) as Record<string, object>;
}

export async function startLocalLeverageGuard(options: LocalLeverageGuardOptions = {}): Promise<LocalLeverageGuard> {
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 1;
  const simulator = options.simulator ?? (await startBinanceSimulator());
  const aws = options.aws ?? (await startLocalAws());
  const resources = await createLocalStack(aws.clients, {
    name: options.name ?? 'leverage-guard',
    maxReceiveCount,
    visibilityTimeoutSeconds,
    fifo: options.fifo,
    credentials: options.credentials ?? loadTestCredentials(),
  });
  const functionEnv = {
    ...localAwsEnv(aws.endpoint),
    BINANCE_SECRET_ID: resources.secretIdTemplate,
    RESULT_TOPIC_ARN: resources.topicArn,
    BINANCE_PAPI_URL: simulator.url,
    BINANCE_TIME_URL: `${simulator.url}/fapi/v1/time`,
    MAX_RECEIVE_COUNT: String(maxReceiveCount),
    STATE_TABLE_NAME: resources.stateTableName,
    PAUSE_PARAMETER: resources.pauseParameterName,
    BINANCE_REQUEST_TIMEOUT_MS: '2000',
    POWERTOOLS_SERVICE_NAME: 'leverage-guard-local',
    ...options.env,
  };
  const host = new LambdaHost({
    bundlePath: path.resolve(BUNDLE_PATH),
    env: functionEnv,
    timeoutMs: options.functionTimeoutMs ?? 15_000,
    onLog: options.onLog,
  });
  const poller = createSqsPoller({
    sqs: aws.clients.sqs,
    queueUrl: resources.queueUrl,
    queueArn: resources.queueArn,
    batchSize: options.batchSize ?? 10,
    visibilityTimeoutSeconds,
    invoke: (event: SQSEvent) => host.invoke<SQSBatchResponse>(event),
  });

  return {
    simulator,
    aws,
    resources,
    host,
    poller,
    functionEnv,
    invoke: (event) => host.invoke(event),
    readOutcomes: (count, timeoutMs = 10_000) =>
      readOutcomes(aws.clients.sqs, resources.outcomesQueueUrl, { count, timeoutMs }),
    async close() {
      await poller.stop();
      host.stop();
      if (!options.aws) await aws.stop();
      if (!options.simulator) await simulator.close();
    },
  };
}
