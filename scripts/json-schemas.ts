/**
 * The JSON Schemas (Draft 2020-12) of the risk event and the outcome, generated from the code's
 * own valibot schemas with @valibot/to-json-schema. `npm run schemas` writes them to schemas/;
 * tests/unit/contract/schemas.test.ts fails when the committed files differ from this output.
 *
 * What JSON Schema cannot say is handled explicitly, never dropped silently:
 * - a valibot `check` (a rule in code, e.g. "a real calendar date") becomes a sentence in the
 *   property's `description`, so producers know the function checks more than the schema;
 * - a `custom` schema must be listed in CUSTOM_SCHEMAS by its message, otherwise generation fails;
 * - the three event shapes (which fields go together) are `scopeOf` in risk-event.ts, written out
 *   here as `oneOf`; the schema-vs-code agreement test keeps the two honest.
 */
import { type ConversionConfig, type JsonSchema, toJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { outcomeSchema } from '../functions/contract/outcome-schema.ts';
import { ALL_OPEN_POSITIONS, riskEventSchema } from '../functions/domain/risk-event.ts';

export const SCHEMA_DIR = 'schemas';

/** valibot `custom` schemas by their message: what each checks, in JSON Schema terms. */
const CUSTOM_SCHEMAS: Record<string, JsonSchema> = {
  'must be a JSON object': { type: 'object' },
};

const CONVERSION: ConversionConfig = {
  target: 'draft-2020-12',
  typeMode: 'input',
  errorMode: 'throw',
  overrideSchema: ({ valibotSchema }) => {
    if (valibotSchema.type !== 'custom') return undefined;
    const message = (valibotSchema as { message?: unknown }).message;
    const known = typeof message === 'string' ? CUSTOM_SCHEMAS[message] : undefined;
    if (!known) throw new Error(`a custom valibot schema (${String(message)}) has no JSON Schema in CUSTOM_SCHEMAS`);
    return known;
  },
  overrideAction: ({ valibotAction, jsonSchema }) => {
    // A `format` (date-time...) is looser than valibot's own regex in places (a lowercase "t" or
    // "z" passes date-time, not isoTimestamp): the regex goes along, so the schema never accepts
    // what the function rejects.
    const requirement = (valibotAction as { requirement?: unknown }).requirement;
    if (jsonSchema.format && requirement instanceof RegExp) return { ...jsonSchema, pattern: requirement.source };
    if (valibotAction.type !== 'check') return undefined;
    const rule = (valibotAction as { message?: unknown }).message;
    if (typeof rule !== 'string') throw new Error('a valibot check without a message cannot be documented in the JSON Schema');
    const also = `Also checked by leverage-guard: ${rule}.`;
    return { ...jsonSchema, description: jsonSchema.description ? `${jsonSchema.description} ${also}` : also };
  },
};

type Piped = { pipe?: { kind: string }[]; wrapped?: Piped };

/**
 * A pipe that checks a list's length before its entries (risk-event.ts `targets`: a list of
 * thousands is refused without reading them) validates the entries with a second schema in the
 * pipe, where the converter stops (typeMode input). Such a property is converted again from that
 * second schema with every action of the pipe, so the JSON Schema still says what each entry is.
 */
function propertiesWithEntrySchemas(entries: Record<string, unknown>): Record<string, JsonSchema> {
  const converted: Record<string, JsonSchema> = {};
  for (const [name, entry] of Object.entries(entries)) {
    const pipe = ((entry as Piped).wrapped ?? (entry as Piped)).pipe ?? [];
    const itemsSchema = pipe.slice(1).find((item) => item.kind === 'schema');
    if (!itemsSchema) continue;
    const actions = pipe.filter((item) => item.kind !== 'schema') as unknown as v.PipeAction<unknown, unknown, v.BaseIssue<unknown>>[];
    const { $schema: _dialect, ...property } = toJsonSchema(v.pipe(itemsSchema as v.GenericSchema, ...actions), CONVERSION);
    converted[name] = property;
  }
  return converted;
}

const absent = (...fields: string[]): JsonSchema => ({ not: { anyOf: fields.map((field) => ({ required: [field] })) } });

/** The event shapes of risk-event.ts `scopeOf`: exactly one of them. */
const EVENT_SHAPES: JsonSchema[] = [
  { title: 'one symbol', required: ['symbol', 'leverage'], ...absent('targets', 'symbols') },
  { title: 'several symbols', required: ['targets'], ...absent('symbol', 'leverage', 'symbols') },
  {
    title: `every open position (${ALL_OPEN_POSITIONS}), reduce-only`,
    required: ['symbols', 'leverage'],
    ...absent('symbol', 'targets'),
    properties: { mode: { const: 'reduce-only' } },
  },
];

export function riskEventJsonSchema(): JsonSchema {
  const generated = toJsonSchema(riskEventSchema, CONVERSION);
  const { $schema, ...rest } = generated;
  rest.properties = { ...rest.properties, ...propertiesWithEntrySchemas(riskEventSchema.entries) };
  return {
    $schema,
    title: 'leverage-guard risk event',
    description:
      'One leverage command: the SQS message body, the EventBridge event detail, or the payload of a direct or Scheduler invocation. See the README, "The risk event".',
    ...rest,
    oneOf: EVENT_SHAPES,
  };
}

export function outcomeJsonSchema(): JsonSchema {
  const { $schema, ...rest } = toJsonSchema(outcomeSchema, CONVERSION);
  return {
    $schema,
    title: 'leverage-guard outcome',
    description:
      'One SNS message per event and symbol on the result topic (message attributes status, symbol, accountId). See the README, "The outcome".',
    ...rest,
  };
}

/** File name → content, exactly as written to schemas/. */
export function generatedSchemaFiles(): Record<string, string> {
  const text = (schema: JsonSchema) => `${JSON.stringify(schema, null, 2)}\n`;
  return {
    'risk-event.schema.json': text(riskEventJsonSchema()),
    'outcome.schema.json': text(outcomeJsonSchema()),
  };
}
