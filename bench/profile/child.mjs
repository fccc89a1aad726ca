// One container of bench/profile/cpu-profile.ts (plain .mjs: no TypeScript loader in the measure).
// Job (a JSON file, argv[2]): the function bundle, its warm-up and measured SQS batches, and an
// optional V8 CPU profile of the measured ones; or `mode: 'baseline'`, the bare signed node:http
// keep-alive call of bench/contenders/baseline.ts. Prints CPU ms per record (or per call) of each
// measured batch.
import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { Session } from 'node:inspector/promises';
import { pathToFileURL } from 'node:url';

const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const cpuMs = (usage) => (usage.user + usage.system) / 1000;

function lambdaContext() {
  const deadline = Date.now() + 30_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'change-leverage',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:change-leverage',
    memoryLimitInMB: '128',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/change-leverage',
    logStreamName: 'profile',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function functionContainer() {
  const { handler } = await import(pathToFileURL(job.bundlePath).href);
  const invoke = async (event) => {
    const response = await handler(event, lambdaContext());
    if (response.batchItemFailures?.length) throw new Error(`records handed back: ${JSON.stringify(response)}`);
  };
  for (const event of job.warmup) await invoke(event);
  const session = new Session();
  if (job.profile) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 100 });
    await session.post('Profiler.start');
  }
  const perRecord = [];
  for (const event of job.measured) {
    const before = process.cpuUsage();
    await invoke(event);
    perRecord.push(cpuMs(process.cpuUsage(before)) / event.Records.length);
  }
  if (job.profile) writeFileSync(job.profile, JSON.stringify((await session.post('Profiler.stop')).profile));
  return perRecord;
}

async function baseline() {
  const agent = new http.Agent({ keepAlive: true });
  let last = 5;
  const call = () =>
    new Promise((resolve, reject) => {
      const leverage = (last = last === 5 ? 6 : 5);
      const query = `symbol=BTCUSDT&leverage=${leverage}&recvWindow=5000&timestamp=${Date.now()}`;
      const signature = createHmac('sha256', job.apiSecret).update(query).digest('hex');
      const request = http.request(`${job.simulatorUrl}/papi/v1/um/leverage?${query}&signature=${signature}`, { method: 'POST', agent, headers: { 'X-MBX-APIKEY': job.apiKey } }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk) => (body += chunk));
        response.on('end', () => (response.statusCode === 200 && JSON.parse(body).leverage === leverage ? resolve() : reject(new Error(body))));
      });
      request.on('error', reject);
      request.end();
    });
  for (let i = 0; i < 200; i++) await call();
  const perCall = [];
  for (let b = 0; b < job.batches; b++) {
    const before = process.cpuUsage();
    for (let i = 0; i < 100; i++) await call();
    perCall.push(cpuMs(process.cpuUsage(before)) / 100);
  }
  return perCall;
}

const result = await (job.mode === 'baseline' ? baseline() : functionContainer());
// Exit explicitly: keep-alive sockets would hold the process open.
process.stdout.write(`\n@@profile-result@@ ${JSON.stringify(result)}\n`, () => process.exit(0));
