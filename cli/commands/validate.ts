import { validateRiskEvent } from '../../functions/domain/risk-event.ts';
import { eventsOf, readJsonInput } from '../input.ts';
import { EXIT, print } from '../output.ts';
import type { Command } from '../command.ts';

export interface Checked {
  where: string;
  eventId?: string;
  valid: boolean;
  message?: string;
}

export function checkEvents(json: unknown): Checked[] {
  return eventsOf(json).map(({ where, event, unparsable }) => {
    if (unparsable) return { where, valid: false, message: unparsable };
    const result = validateRiskEvent(event);
    const eventId = result.ok ? result.command.eventId : result.partial.eventId;
    return result.ok ? { where, eventId, valid: true } : { where, eventId, valid: false, message: result.message };
  });
}

export const validate: Command = {
  name: 'validate',
  summary: 'check events offline, field by field, as the function would',
  usage: `leverage-guard validate <file|-> [--json]

Checks risk events against the contract, offline, with the function's own validation: the
messages are the ones a REJECTED (INVALID_EVENT) outcome would carry. The input is one event, an
array of events, or an \`npm start\` event file (its sqs, eventBridge and scheduled events).
"-" reads stdin.

Options:
  --json   one JSON array: [{where, eventId, valid, message}]`,
  options: { json: { type: 'boolean' } },
  positionals: ['file|-'],
  async run({ values, positionals }) {
    const checked = checkEvents(readJsonInput(positionals[0]!));
    if (values.json) print(JSON.stringify(checked, null, 2));
    else {
      for (const c of checked) print(`${c.valid ? 'ok     ' : 'INVALID'}  ${c.where}${c.eventId ? ` (${c.eventId})` : ''}${c.message ? `: ${c.message}` : ''}`);
      const invalid = checked.filter((c) => !c.valid).length;
      print(`${checked.length} event(s), ${invalid} invalid`);
    }
    return checked.every((c) => c.valid) ? EXIT.OK : EXIT.NOT_OK;
  },
};
