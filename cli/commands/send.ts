import { sendRiskEvent } from '../../functions/contract/producer.ts';
import { RISK_EVENT_DETAIL_TYPES } from '../../functions/contract/event-pattern.ts';
import type { RiskEvent } from '../../functions/contract/producer.ts';
import { type Command, TARGET_HELP, TARGET_OPTIONS, targetOf } from '../command.ts';
import { withDeployment } from '../with-deployment.ts';
import { eventsOf, isEventFile, readJsonInput } from '../input.ts';
import { EXIT, print, printError, UsageError } from '../output.ts';
import { checkEvents } from './validate.ts';

export const send: Command = {
  name: 'send',
  summary: 'send events to a stage\'s risk-event queue or event bus, or to the local stack',
  usage: `leverage-guard send <file|-> (--stage <name> | --local) [--bus] [options]

Validates every event first (as \`validate\`) and sends nothing if one is invalid. Then sends each
event to the risk-event queue (the stack output RiskQueueUrl, or RiskFifoQueueUrl), or with --bus
to the event bus the stack's rule listens on. An event without issuedAt gets the current time:
the function orders changes per account and symbol by it. The input is one event or an array.

${TARGET_HELP}

Options:
  --bus                  put the events on the event bus instead of the queue
  --detail-type <type>   with --bus: ${RISK_EVENT_DETAIL_TYPES.join(' or ')} (default the first)
  --fifo                 send to the FIFO queue (when the stage has both)
  --group-id <id>        FIFO MessageGroupId (default <accountId>:<symbol>; required for
                         events with targets or symbols)`,
  options: { ...TARGET_OPTIONS, bus: { type: 'boolean' }, 'detail-type': { type: 'string' }, fifo: { type: 'boolean' }, 'group-id': { type: 'string' } },
  positionals: ['file|-'],
  async run({ values, positionals }) {
    const json = readJsonInput(positionals[0]!);
    if (isEventFile(json)) throw new UsageError('this is an `npm start` event file: send its events with `npm start -- --events <file>`, or give an event or an array');
    const invalid = checkEvents(json).filter((c) => !c.valid);
    if (invalid.length > 0) {
      for (const c of invalid) printError(`INVALID  ${c.where}${c.eventId ? ` (${c.eventId})` : ''}: ${c.message}`);
      printError('nothing sent');
      return EXIT.NOT_OK;
    }
    return withDeployment(targetOf(values), async (deployment) => {
      const { clients } = deployment;
      const queue = values.fifo ? deployment.riskQueues.find((q) => q.name.endsWith('.fifo')) : deployment.riskQueues[0];
      if (!values.bus && !queue) throw new UsageError(`${deployment.label} has no ${values.fifo ? 'FIFO ' : ''}risk-event queue`);
      for (const { where, event } of eventsOf(json)) {
        const destination = values.bus
          ? { eventBridge: clients.eventBridge, eventBusName: deployment.eventBusName, detailType: values['detail-type'] as string | undefined }
          : { sqs: clients.sqs, queueUrl: queue!.url, messageGroupId: values['group-id'] as string | undefined };
        const { id } = await sendRiskEvent(destination, event as RiskEvent);
        const eventId = (event as RiskEvent).eventId;
        print(`sent     ${where} (${eventId}) → ${values.bus ? `bus ${deployment.eventBusName ?? 'default'}` : `queue ${queue!.name}`}: ${id}`);
      }
      return EXIT.OK;
    });
  },
};
