#!/usr/bin/env node
/**
 * `leverage-guard`: the operator's and producer's command line. `npx leverage-guard --help`.
 * Every command has --help; exit codes are the same for all (output.ts, EXIT).
 */
import { parseArgs } from 'node:util';
import type { Command } from './command.ts';
import { outcomes } from './commands/outcomes.ts';
import { pause, resume } from './commands/pause.ts';
import { redrive } from './commands/redrive.ts';
import { send } from './commands/send.ts';
import { status } from './commands/status.ts';
import { validate } from './commands/validate.ts';
import { DeploymentError } from './deployment.ts';
import { EXIT, EXIT_CODES_HELP, maskAccountIds, print, printError, UsageError } from './output.ts';

// The SDK's Node-version notice is noise on a command line.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const COMMANDS: Command[] = [validate, send, pause, resume, status, redrive, outcomes];

const USAGE = `Usage: leverage-guard <command> [options]     (leverage-guard <command> --help for each)

Commands:
${COMMANDS.map((command) => `  ${command.name.padEnd(9)} ${command.summary}`).join('\n')}

Commands that talk to AWS take --stage <name> (the stack leverage-guard-<name>, default AWS
credential chain) or --local (the stack of \`npm start -- --serve\`).

${EXIT_CODES_HELP}`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    print(USAGE);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)} (commands: ${COMMANDS.map((c) => c.name).join(', ')})`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...command.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${name}: ${(error as Error).message}`);
  }
  if (parsed.values.help) {
    print(`${command.usage}\n\n${EXIT_CODES_HELP}`);
    return EXIT.OK;
  }
  const expected = command.positionals ?? [];
  if (parsed.positionals.length !== expected.length) {
    throw new UsageError(`${name}: expects ${expected.length ? expected.map((p) => `<${p}>`).join(' ') : 'no arguments'}, got ${parsed.positionals.length ? parsed.positionals.join(' ') : 'none'}`);
  }
  return command.run({ values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      printError(`leverage-guard: ${error.message}\nSee \`leverage-guard ${process.argv[2] && !process.argv[2].startsWith('-') ? `${process.argv[2]} ` : ''}--help\`.`);
      process.exit(EXIT.USAGE);
    }
    const text = error instanceof Error ? `${error.name === 'DeploymentError' || error instanceof DeploymentError ? '' : `${error.name}: `}${error.message}` : String(error);
    printError(`leverage-guard: ${maskAccountIds(text)}`);
    process.exit(EXIT.AWS);
  },
);
