import { DescribeAlarmsCommand, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { Deployment, Queue } from '../deployment.ts';
import { type Command, TARGET_HELP, TARGET_OPTIONS, targetOf } from '../command.ts';
import { withDeployment } from '../with-deployment.ts';
import { EXIT, print } from '../output.ts';
import { type PauseState, readPauseSwitch } from './pause.ts';

interface QueueStatus {
  name: string;
  visible: number;
  inFlight: number;
  delayed: number;
  /** Seconds, from CloudWatch's ApproximateAgeOfOldestMessage (none locally, or when idle). */
  oldestAgeSeconds?: number;
}

export interface Status {
  deployment: string;
  pause: PauseState;
  queues: QueueStatus[];
  dlqs: QueueStatus[];
  alarms: { name: string; state: string }[];
  /** Why the exit code is 1: paused, DLQ not empty, alarm in ALARM… */
  attention: string[];
}

async function queueStatus(deployment: Deployment, queue: Queue): Promise<QueueStatus> {
  const { Attributes = {} } = await deployment.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queue.url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  const now = Date.now();
  // SQS has no "oldest message" attribute; CloudWatch has it, with a few minutes' delay.
  const { Datapoints = [] } = await deployment.clients.cloudWatch.send(
    new GetMetricStatisticsCommand({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: queue.name }],
      StartTime: new Date(now - 15 * 60_000),
      EndTime: new Date(now),
      Period: 60,
      Statistics: ['Maximum'],
    }),
  );
  const latest = Datapoints.sort((a, b) => (b.Timestamp?.getTime() ?? 0) - (a.Timestamp?.getTime() ?? 0))[0];
  return {
    name: queue.name,
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
    oldestAgeSeconds: latest?.Maximum,
  };
}

async function alarms(deployment: Deployment): Promise<Status['alarms']> {
  if (!deployment.alarmPrefix) return [];
  const found: Status['alarms'] = [];
  let NextToken: string | undefined;
  do {
    const page = await deployment.clients.cloudWatch.send(new DescribeAlarmsCommand({ AlarmNamePrefix: deployment.alarmPrefix, NextToken }));
    for (const alarm of page.MetricAlarms ?? []) found.push({ name: alarm.AlarmName ?? '?', state: alarm.StateValue ?? '?' });
    NextToken = page.NextToken;
  } while (NextToken);
  return found;
}

export async function readStatus(deployment: Deployment): Promise<Status> {
  const [pause, queues, dlqs, alarmStates] = await Promise.all([
    readPauseSwitch(deployment),
    Promise.all(deployment.riskQueues.map((queue) => queueStatus(deployment, queue))),
    Promise.all(deployment.dlqs.map((queue) => queueStatus(deployment, queue))),
    alarms(deployment),
  ]);
  const attention = [
    ...(pause.paused === true ? ['paused'] : []),
    ...(pause.paused === 'unknown' ? ['pause switch unreadable (the function then counts as paused)'] : []),
    ...dlqs.filter((dlq) => dlq.visible + dlq.inFlight > 0).map((dlq) => `${dlq.name} holds ${dlq.visible + dlq.inFlight} message(s)`),
    ...alarmStates.filter((alarm) => alarm.state === 'ALARM').map((alarm) => `alarm ${alarm.name} is in ALARM`),
  ];
  return { deployment: deployment.label, pause, queues, dlqs, alarms: alarmStates, attention };
}

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

const age = (seconds: number | undefined) => (seconds === undefined ? '-' : `${seconds} s`);

export const status: Command = {
  name: 'status',
  summary: 'pause switch, queue depths and oldest ages, DLQ depths, alarm states',
  usage: `leverage-guard status (--stage <name> | --local) [--json]

Reads, changes nothing: the pause switch; per risk-event queue the messages waiting, in flight
(being processed or waiting for their redelivery) and delayed, and the age of the oldest (from
CloudWatch's ApproximateAgeOfOldestMessage, minutes behind; "-" without data); every DLQ's
depth; the stage's alarms and their states. Exit code 1 when something needs attention: paused,
pause switch unreadable, a DLQ not empty, an alarm in ALARM.

${TARGET_HELP}

Options:
  --json   the same as one JSON object`,
  options: { ...TARGET_OPTIONS, json: { type: 'boolean' } },
  async run({ values }) {
    return withDeployment(targetOf(values), async (deployment) => {
      const result = await readStatus(deployment);
      if (values.json) print(JSON.stringify(result, null, 2));
      else {
        const pause = result.pause.paused === 'unknown' ? `UNREADABLE (${result.pause.error})` : result.pause.paused ? 'PAUSED' : 'running';
        print(`leverage-guard  ${result.deployment}`);
        print(`pause switch    ${deployment.pauseParameterName}: ${pause}`);
        print();
        for (const line of table([['queue', 'waiting', 'in flight', 'delayed', 'oldest'], ...result.queues.map((q) => [q.name, String(q.visible), String(q.inFlight), String(q.delayed), age(q.oldestAgeSeconds)])])) print(line);
        print();
        for (const line of table([['DLQ', 'messages', 'oldest'], ...result.dlqs.map((q) => [q.name, String(q.visible + q.inFlight), age(q.oldestAgeSeconds)])])) print(line);
        print();
        if (result.alarms.length > 0) for (const line of table([['alarm', 'state'], ...result.alarms.map((a) => [a.name, a.state])])) print(line);
        else print(deployment.alarmPrefix ? 'alarms: none found' : 'alarms: none (local stack)');
        print();
        print(result.attention.length === 0 ? 'OK: running, DLQs empty, no alarm' : `ATTENTION: ${result.attention.join('; ')}`);
      }
      return result.attention.length === 0 ? EXIT.OK : EXIT.NOT_OK;
    });
  },
};
