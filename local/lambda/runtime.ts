/**
 * Child-process stand-in for the Lambda runtime: imports the built bundle once (the cold start),
 * then serves invocations sent over IPC, each with a Lambda-shaped context and deadline. Running
 * the bundle in its own process gives it its own environment and module state, as in a real
 * container. Started by `lambda-host.ts`; never imported.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { InvokeRequest, InvokeReply } from './protocol.ts';

const bundlePath = process.argv[2];
if (!bundlePath) throw new Error('usage: runtime.ts <bundle path>');

type Handler = (event: unknown, context: Context) => Promise<unknown>;

function contextFor(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  const functionName = process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'change-leverage';
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION ?? 'us-east-1'}:000000000000:function:${functionName}`,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

function reply(message: InvokeReply): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  let handler: Handler;
  try {
    ({ handler } = (await import(pathToFileURL(bundlePath!).href)) as { handler: Handler });
  } catch (error) {
    reply({ type: 'init-error', message: error instanceof Error ? error.message : String(error) });
    process.exit(1);
  }
  reply({ type: 'ready' });
  process.on('message', async (request: InvokeRequest) => {
    try {
      const result = await handler(request.event, contextFor(request.timeoutMs));
      reply({ type: 'result', id: request.id, result });
    } catch (error) {
      const { name, message } = error instanceof Error ? error : { name: 'Error', message: String(error) };
      reply({ type: 'error', id: request.id, error: { name, message } });
    }
  });
  process.on('disconnect', () => process.exit(0));
}

void main();
