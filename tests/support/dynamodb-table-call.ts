/**
 * The in-memory DynamoDB (local/aws/in-memory-dynamodb.ts) answering a request as the AWS JSON
 * client would report it: the reply, or the service's error as an AwsServiceError with its details
 * (the failed item, a transaction's CancellationReasons). Shared by every test that runs the real
 * state store without a server.
 */
import { AwsServiceError } from '../../functions/adapters/aws-json/aws-json-client.ts';
import { DynamoDbError, type FakeDynamoDb } from '../../local/aws/in-memory-dynamodb.ts';

export function answerFromTable(table: FakeDynamoDb, operation: string, input: object): object {
  try {
    return table.handle(operation, input as Parameters<FakeDynamoDb['handle']>[1]);
  } catch (error) {
    if (error instanceof DynamoDbError) throw new AwsServiceError(error.type, error.message, 400, error.details);
    throw error;
  }
}
