// SQS message attributes flattened to their values (base64 for Binary), which is what readers of
// the result topic compare and print. No imports but a type: the CLI bundle includes this file.
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';

export function attributeValues(attributes: Record<string, MessageAttributeValue> = {}): Record<string, string> {
  return Object.fromEntries(
    Object.entries(attributes).map(([name, value]) => [
      name,
      value.StringValue ?? Buffer.from(value.BinaryValue ?? new Uint8Array()).toString('base64'),
    ]),
  );
}
