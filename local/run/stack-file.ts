// Where `npm start -- --serve` says what it runs, for `leverage-guard --local` (cli/deployment.ts):
// moto's endpoint and the resource names. Written when the service is up, removed when it stops.
// No imports beyond node: the CLI bundle includes this file.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const LOCAL_STACK_FILE = '.local-run/stack.json';

export interface LocalStackFile {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  queueUrl: string;
  dlqUrl: string;
  eventBusName: string;
  topicArn: string;
  pauseParameterName: string;
}

export function writeLocalStackFile(content: LocalStackFile, file = LOCAL_STACK_FILE): () => void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
  return () => rmSync(file, { force: true });
}
