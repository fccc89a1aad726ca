/**
 * What stands between an invocation and the exchange, read from the request logs of the AWS fakes
 * and the simulator: when the leverage change reached the exchange, how many AWS calls ran one
 * after another before it, and how many AWS requests each record cost, by service and operation.
 */
import type { RecordedRequest } from '../local/binance-simulator/index.ts';
import type { AwsCall } from './fake-aws.ts';
import type { InvocationMeasure } from './protocol.ts';

export const LEVERAGE_PATH = '/papi/v1/um/leverage';

/** One invocation with the requests that arrived while it ran. */
export interface ObservedInvocation extends InvocationMeasure {
  awsCalls: AwsCall[];
  exchangeRequests: RecordedRequest[];
}

/** Splits the logs of one container between its invocations by arrival time. */
export function attribute(invocations: InvocationMeasure[], awsCalls: AwsCall[], exchangeRequests: RecordedRequest[]): ObservedInvocation[] {
  // The simulator stamps arrivals with Date.now() (whole ms): allow that rounding at both ends.
  const within = (at: number, m: InvocationMeasure) => at >= m.startedAt - 1 && at <= m.endedAt + 1;
  return invocations.map((m) => ({
    ...m,
    awsCalls: awsCalls.filter((c) => within(c.arrivedAt, m)),
    exchangeRequests: exchangeRequests.filter((r) => within(r.at, m)),
  }));
}

/** Epoch ms when the first leverage change of the invocation reached the exchange. */
export function firstChangeAt(invocation: ObservedInvocation): number {
  const post = invocation.exchangeRequests.find((r) => r.method === 'POST' && r.path === LEVERAGE_PATH);
  if (!post) throw new Error(`${invocation.label} invocation sent no leverage change`);
  return post.at;
}

/**
 * The longest run of AWS calls, each sent after the previous one was answered, that was answered
 * before `before`: the most AWS round trips that can have stood in sequence before that moment
 * (calls that overlap in time cannot have waited for each other). Greedy by reply time gives the
 * longest such chain of non-overlapping intervals.
 */
export function sequentialAwsCalls(calls: AwsCall[], before: number): AwsCall[] {
  const answered = calls.filter((c) => c.repliedAt <= before + 1).sort((a, b) => a.repliedAt - b.repliedAt);
  const chain: AwsCall[] = [];
  for (const call of answered) {
    const last = chain.at(-1);
    if (!last || call.arrivedAt >= last.repliedAt) chain.push(call);
  }
  return chain;
}

/**
 * Requests of one invocation by service and operation: "DynamoDB TransactWriteItems",
 * "SNS PublishBatch", "Binance POST /papi/v1/um/leverage", …
 */
export function countByOperation(invocation: Pick<ObservedInvocation, 'awsCalls' | 'exchangeRequests'>): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  for (const c of invocation.awsCalls) add(`${c.service} ${c.operation}`);
  for (const r of invocation.exchangeRequests) add(`Binance ${r.method} ${r.path}`);
  return counts;
}
