/**
 * Micro-measures behind two choices of issue 13 (CPU per record), in one process:
 * - SigV4: the SDK's signer (@smithy/signature-v4 with the SDK's own Node Sha256) against sigv4.ts;
 * - a record's log: a Powertools child logger per record against passing the eventId per line.
 *   npx tsx bench/profile/micro.ts
 * CPU time (process.cpuUsage) per operation, after a warm-up; stdout is swallowed while logging.
 */
import { Sha256 } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { PostSigner } from '../../functions/adapters/aws-json/sigv4.ts';
import { logger, loggerFor } from '../../functions/change-leverage/logger.ts';

const N = 20_000;
const results: string[] = [];
async function measure(label: string, operation: () => unknown): Promise<void> {
  for (let i = 0; i < 2000; i++) await operation();
  const before = process.cpuUsage();
  for (let i = 0; i < N; i++) await operation();
  const cpu = process.cpuUsage(before);
  results.push(`${label}: ${((cpu.user + cpu.system) / N).toFixed(1)} µs`);
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', sessionToken: 'token' };
const body = JSON.stringify({ TableName: 'leverage-guard-state', Key: { pk: { S: 'key#default#BTCUSDT' } }, UpdateExpression: 'SET a = :a', ExpressionAttributeValues: { ':a': { S: 'x'.repeat(40) } } });
const smithy = new SignatureV4({ credentials, region: 'us-east-1', service: 'dynamodb', sha256: Sha256 });
const headers = { host: '127.0.0.1:4566', 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.UpdateItem' };
await measure('SigV4, @smithy/signature-v4', () => smithy.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: '/', query: {}, headers: { ...headers }, body }));
const ours = new PostSigner('us-east-1', 'dynamodb', '127.0.0.1:4566', '/');
await measure('SigV4, sigv4.ts PostSigner', () => ours.sign(credentials, headers['content-type'], headers['x-amz-target'], body, new Date()));

const write = process.stdout.write;
process.stdout.write = () => true;
await measure('record log: createChild + one info line', () => logger.createChild({ persistentKeys: { eventId: 'evt-1' } }).info('outcome published', { symbol: 'BTCUSDT', status: 'APPLIED' }));
await measure('record log: loggerFor + one info line', () => loggerFor('evt-1').info('outcome published', { symbol: 'BTCUSDT', status: 'APPLIED' }));
process.stdout.write = write;
console.log(results.join('\n'));
