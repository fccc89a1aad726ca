/**
 * Publishes each outcome to the result topic, with message attributes subscribers can filter on
 * (status, symbol, accountId). A publish failure is retryable: the record is never acknowledged
 * without its outcome.
 */
import { type MessageAttributeValue, PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { describeError, RetryableError } from '../../domain/errors.ts';
import type { Outcome } from '../../domain/outcome.ts';
import type { Deadline, OutcomePublisher } from '../../domain/ports.ts';
import { sendWithin } from '../aws-sdk/bounded-call.ts';

export class SnsOutcomePublisher implements OutcomePublisher {
  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  async publish(outcome: Outcome, deadline?: Deadline): Promise<void> {
    try {
      await sendWithin(deadline, 'publishing the outcome', (options) =>
        this.client.send(new PublishCommand({ TopicArn: this.topicArn, Message: JSON.stringify(outcome), MessageAttributes: attributesOf(outcome) }), options),
      );
    } catch (error) {
      if (error instanceof RetryableError) throw error;
      const reason = describeError(error);
      throw new RetryableError('OUTCOME_PUBLISH_FAILED', `could not publish the outcome (${reason})`, undefined, { cause: error });
    }
  }
}

export function attributesOf(outcome: Outcome): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  const values = { status: outcome.status, symbol: outcome.symbol, accountId: outcome.accountId };
  for (const [name, value] of Object.entries(values)) {
    // SNS rejects empty attribute values; an invalid event may have no symbol or account.
    if (value) attributes[name] = { DataType: 'String', StringValue: value };
  }
  return attributes;
}
