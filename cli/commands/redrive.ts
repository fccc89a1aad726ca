import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import type { Deployment, Queue } from '../deployment.ts';
import { type Command, TARGET_HELP, TARGET_OPTIONS, targetOf } from '../command.ts';
import { withDeployment } from '../with-deployment.ts';
import { EXIT, print, printError, UsageError } from '../output.ts';
import { readPauseSwitch } from './pause.ts';

const SQS_MAX_BATCH = 10;

function describe(message: Message): string {
  try {
    const eventId = (JSON.parse(message.Body ?? '') as { eventId?: unknown }).eventId;
    if (typeof eventId === 'string') return `${eventId} (message ${message.MessageId})`;
  } catch {
    // not JSON: the function REJECTED it, or it is not a risk event; the message id identifies it
  }
  return `message ${message.MessageId}`;
}

async function depth(deployment: Deployment, queue: Queue): Promise<number> {
  const { Attributes = {} } = await deployment.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes.ApproximateNumberOfMessages ?? 0);
}

/** The message's own attributes as SendMessage takes them (the list fields SQS reserves left out). */
function userAttributes(message: Message): Record<string, MessageAttributeValue> | undefined {
  if (!message.MessageAttributes) return undefined;
  return Object.fromEntries(
    Object.entries(message.MessageAttributes).map(([name, { DataType, StringValue, BinaryValue }]) => [name, { DataType, StringValue, BinaryValue }]),
  );
}

/**
 * Moves one message back: send first, delete after, so a failure in between leaves a copy in the
 * DLQ rather than losing the event (the function does not apply a completed event twice). On a
 * FIFO queue the group is kept; the deduplication id is new, since the producer's own id may still
 * be inside SQS's 5-minute window, where the resend would silently vanish; it is derived from the
 * DLQ message, so re-running after a crash between send and delete does not send it twice.
 */
async function moveBack(deployment: Deployment, dlq: Queue, source: Queue, message: Message): Promise<void> {
  const fifo = source.name.endsWith('.fifo');
  await deployment.clients.sqs.send(
    new SendMessageCommand({
      QueueUrl: source.url,
      MessageBody: message.Body,
      MessageAttributes: userAttributes(message),
      ...(fifo ? { MessageGroupId: message.Attributes?.MessageGroupId, MessageDeduplicationId: `redrive-${message.MessageId}` } : {}),
    }),
  );
  await deployment.clients.sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: message.ReceiptHandle }));
}

export const redrive: Command = {
  name: 'redrive',
  summary: 'move risk events from the DLQ back to their queue (count, dry run)',
  usage: `leverage-guard redrive (--stage <name> | --local) [--count <n>] [--dry-run] [--dlq <name>]

Moves messages from a risk-event DLQ back to the queue whose redrive policy points at it, each
unchanged (body, message attributes, FIFO group), in the order SQS returns them. Refuses while
the stage is paused (they would only go back to the DLQ). A redriven event keeps its eventId and
issuedAt: the function skips it if it completed meanwhile, if a newer change was applied to its
account and symbol (SUPERSEDED) or if it is older than MAX_EVENT_AGE_SECONDS (STALE_EVENT); its
new outcome then supersedes the FAILED one published before. The other DLQs (EventBridge,
async failures, Scheduler) hold envelopes, not risk events: see docs/deploy.md, Runbook.

${TARGET_HELP}

Options:
  --count <n>    move at most n messages (default: as many as the DLQ holds when it starts, by
                 SQS's approximate count: run it again if messages remain)
  --dry-run      list what would move (up to --count), move nothing
  --dlq <name>   which risk-event DLQ (default: each one)`,
  options: { ...TARGET_OPTIONS, count: { type: 'string' }, 'dry-run': { type: 'boolean' }, dlq: { type: 'string' } },
  async run({ values }) {
    const count = values.count === undefined ? undefined : Number(values.count);
    if (count !== undefined && (!Number.isInteger(count) || count < 1)) throw new UsageError(`--count must be a whole number ≥ 1, got ${String(values.count)}`);
    return withDeployment(targetOf(values), async (deployment) => {
      const riskDlqs = deployment.dlqs.filter((dlq): dlq is Queue & { source: Queue } => dlq.source !== undefined);
      const chosen = values.dlq ? riskDlqs.filter((dlq) => dlq.name === values.dlq) : riskDlqs;
      if (chosen.length === 0) {
        throw new UsageError(`no risk-event DLQ ${values.dlq ? `named ${String(values.dlq)}` : ''} in ${deployment.label} (risk-event DLQs: ${riskDlqs.map((d) => d.name).join(', ') || 'none'})`);
      }
      const dryRun = values['dry-run'] === true;
      if (!dryRun) {
        const pause = await readPauseSwitch(deployment);
        if (pause.paused !== false) {
          printError(`${deployment.label} is paused (or its pause switch is unreadable): resume first, nothing moved`);
          return EXIT.NOT_OK;
        }
      }
      for (const { source, ...dlq } of chosen) {
        const available = await depth(deployment, dlq);
        const limit = Math.min(count ?? available, available);
        print(`${dlq.name}: ${available} message(s); ${dryRun ? 'would move' : 'moving'} ${limit} to ${source.name}`);
        const seen = new Set<string>();
        const listed: Message[] = [];
        while (seen.size < limit) {
          const { Messages = [] } = await deployment.clients.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: dlq.url,
              MaxNumberOfMessages: Math.min(SQS_MAX_BATCH, limit - seen.size),
              // Hidden while listed or moved, so the next receive returns the next ones.
              VisibilityTimeout: 60,
              WaitTimeSeconds: 1,
              MessageSystemAttributeNames: ['All'],
              MessageAttributeNames: ['All'],
            }),
          );
          const fresh = Messages.filter((message) => message.MessageId && !seen.has(message.MessageId));
          if (fresh.length === 0) break;
          for (const message of fresh) {
            seen.add(message.MessageId!);
            if (dryRun) listed.push(message);
            else await moveBack(deployment, dlq, source, message);
            print(`  ${dryRun ? 'would move' : 'moved'} ${describe(message)}`);
          }
        }
        // A dry run gives back what it hid at once, so a real redrive right after finds them all.
        for (let start = 0; start < listed.length; start += SQS_MAX_BATCH) {
          const batch = listed.slice(start, start + SQS_MAX_BATCH);
          await deployment.clients.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: dlq.url,
              Entries: batch.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle, VisibilityTimeout: 0 })),
            }),
          );
        }
        print(`${dlq.name}: ${dryRun ? 'would move' : 'moved'} ${seen.size} message(s)`);
      }
      return EXIT.OK;
    });
  },
};
