// `npm run schemas`: (re)writes schemas/*.json from the code's valibot schemas. Run it after
// changing functions/domain/risk-event.ts or functions/contract/outcome-schema.ts, and commit the
// result; the unit test tests/unit/contract/schemas.test.ts fails until you do.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { generatedSchemaFiles, SCHEMA_DIR } from './json-schemas.ts';

mkdirSync(SCHEMA_DIR, { recursive: true });
for (const [name, content] of Object.entries(generatedSchemaFiles())) {
  writeFileSync(path.join(SCHEMA_DIR, name), content);
  console.log(`wrote ${SCHEMA_DIR}/${name}`);
}
