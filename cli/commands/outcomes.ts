import { SubscribeCommand, UnsubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { randomBytes } from 'node:crypto';
import type { Outcome } from '../../functions/domain/outcome.ts';
import { attributeValues } from '../../local/aws/message-attributes.ts';
import type { Deployment } from '../deployment.ts';
import { type Command, TARGET_HELP, TARGET_OPTIONS, targetOf } from '../command.ts';
import { withDeployment } from '../with-deployment.ts';
import { EXIT, print, printError, UsageError } from '../output.ts';

const SQS_MAX_WAIT_SECONDS = 20;

export function outcomeLine(outcome: Outcome): string {
  const result = outcome.error ? `${outcome.error.code}: ${outcome.error.message}` : outcome.leverage !== undefined ? `${outcome.currentLeverage !== undefined ? `${outcome.currentLeverage}x → ` : ''}${outcome.leverage}x` : '';
  return `${outcome.status.padEnd(8)} ${outcome.eventId}  ${outcome.accountId ?? '-'}/${outcome.symbol ?? '-'}  ${result}`.trimEnd();
}

/**
 * A queue of our own subscribed to the result topic for as long as the command runs, then removed:
 * reading the outcomes never takes them from another subscriber.
 */
async function temporarySubscription(deployment: Deployment) {
  const { sqs, sns } = deployment.clients;
  const name = `${deployment.namePrefix}-outcomes-cli-${randomBytes(4).toString('hex')}`.slice(-80);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { MessageRetentionPeriod: '3600' } }));
  const queueUrl = QueueUrl!;
  let subscriptionArn: string | undefined;
  const remove = async () => {
    if (subscriptionArn) await sns.send(new UnsubscribeCommand({ SubscriptionArn: subscriptionArn })).catch(() => undefined);
    await sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
  };
  try {
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
    const queueArn = Attributes!.QueueArn!;
    const Policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'sns.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: queueArn, Condition: { ArnEquals: { 'aws:SourceArn': deployment.resultTopicArn } } }],
    });
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: { Policy } }));
    ({ SubscriptionArn: subscriptionArn } = await sns.send(
      new SubscribeCommand({ TopicArn: deployment.resultTopicArn, Protocol: 'sqs', Endpoint: queueArn, Attributes: { RawMessageDelivery: 'true' }, ReturnSubscriptionArn: true }),
    ));
  } catch (error) {
    await remove();
    throw error;
  }
  return { queueUrl, remove };
}

export const outcomes: Command = {
  name: 'outcomes',
  summary: 'follow the outcomes of an eventId (or of everything) as they are published',
  usage: `leverage-guard outcomes (--stage <name> | --local) [--event-id <id>] [--timeout <s>] [--count <n>] [--json]

Subscribes a temporary SQS queue to the result topic (raw delivery, as a subscriber sees it),
prints each outcome as it is published, and removes the queue and subscription when it ends:
after --count outcomes, after --timeout seconds, or on Ctrl-C. Only outcomes published while it
runs are seen: start it before sending. An event with several symbols has one outcome per symbol;
a redriven event can get a later outcome that supersedes an earlier FAILED one.

${TARGET_HELP}

Options:
  --event-id <id>   only this event's outcomes
  --timeout <s>     stop after this long (default 60)
  --count <n>       stop after n outcomes
  --json            one JSON object per line: {"outcome": …, "messageAttributes": {status, symbol, accountId}}

Needs sqs:CreateQueue/SetQueueAttributes/ReceiveMessage/DeleteQueue on ${'<stack>'}-outcomes-cli-*
and sns:Subscribe/Unsubscribe on the result topic. Exit code 1 when no outcome arrived.`,
  options: { ...TARGET_OPTIONS, 'event-id': { type: 'string' }, timeout: { type: 'string' }, count: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }) {
    const timeoutSeconds = Number(values.timeout ?? 60);
    const count = values.count === undefined ? Number.POSITIVE_INFINITY : Number(values.count);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) throw new UsageError(`--timeout must be a whole number of seconds ≥ 1, got ${String(values.timeout)}`);
    if (count !== Number.POSITIVE_INFINITY && (!Number.isInteger(count) || count < 1)) throw new UsageError(`--count must be a whole number ≥ 1, got ${String(values.count)}`);
    const eventId = values['event-id'] as string | undefined;
    return withDeployment(targetOf(values), async (deployment) => {
      const { queueUrl, remove } = await temporarySubscription(deployment);
      let stopped = false;
      const stop = () => {
        stopped = true;
      };
      process.once('SIGINT', stop).once('SIGTERM', stop);
      let shown = 0;
      try {
        printError(`following outcomes${eventId ? ` of ${eventId}` : ''} on ${deployment.label} for up to ${timeoutSeconds} s`);
        const deadline = Date.now() + timeoutSeconds * 1000;
        while (!stopped && shown < count && Date.now() < deadline) {
          const wait = Math.max(0, Math.min(SQS_MAX_WAIT_SECONDS, Math.floor((deadline - Date.now()) / 1000)));
          const { Messages = [] } = await deployment.clients.sqs.send(
            new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: Math.min(wait, 2), MessageAttributeNames: ['All'] }),
          );
          if (Messages.length > 0) {
            await deployment.clients.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })) }));
          }
          for (const message of Messages) {
            let outcome: Outcome;
            try {
              outcome = JSON.parse(message.Body ?? '') as Outcome;
            } catch {
              printError(`not an outcome (not JSON): ${String(message.Body).slice(0, 200)}`);
              continue;
            }
            if (eventId !== undefined && outcome.eventId !== eventId) continue;
            if (shown >= count) break;
            shown++;
            print(values.json ? JSON.stringify({ outcome, messageAttributes: attributeValues(message.MessageAttributes) }) : outcomeLine(outcome));
          }
        }
      } finally {
        process.off('SIGINT', stop).off('SIGTERM', stop);
        await remove();
      }
      printError(`${shown} outcome(s); temporary subscription removed`);
      return shown > 0 ? EXIT.OK : EXIT.NOT_OK;
    });
  },
};
