// Builders for what producers send (integration tests against the local stack), so each test states only what it is about.
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { LocalLeverageGuard } from '../../local/stack.ts';

let sequence = 0;

export function riskEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  sequence += 1;
  return { eventId: `it-${process.pid}-${sequence}`, accountId: 'desk-1', symbol: 'BTCUSDT', leverage: 5, ...overrides };
}

export function eventBridgeEnvelope(detail: unknown, id = `eb-${process.pid}-${++sequence}`) {
  return {
    version: '0',
    id,
    'detail-type': 'RiskLimitBreached',
    source: 'leverage-guard.risk',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail,
  };
}

/** Sends bodies (objects are JSON-encoded, strings sent as they are) in order; returns their ids. */
export async function enqueue(guard: LocalLeverageGuard, bodies: unknown[]): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < bodies.length; start += 10) {
    const chunk = bodies.slice(start, start + 10);
    const { Successful = [], Failed = [] } = await guard.aws.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: guard.resources.queueUrl,
        Entries: chunk.map((body, index) => ({
          Id: String(index),
          MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
        })),
      }),
    );
    if (Failed.length > 0) throw new Error(`enqueue failed: ${JSON.stringify(Failed)}`);
    const byEntry = new Map(Successful.map((s) => [s.Id, s.MessageId!]));
    ids.push(...chunk.map((_, index) => byEntry.get(String(index))!));
  }
  return ids;
}

export function posts(guard: LocalLeverageGuard, path = '/papi/v1/um/leverage') {
  return guard.simulator.requests().filter((r) => r.path === path);
}
