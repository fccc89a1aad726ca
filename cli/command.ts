// The shape of a CLI command, and the options every command that talks to AWS shares.
import type { ParseArgsConfig } from 'node:util';
import type { Target } from './deployment.ts';

export interface Parsed {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export interface Command {
  name: string;
  summary: string;
  /** The whole --help text. */
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  /** Names of required positional arguments, in order (for the usage error). */
  positionals?: string[];
  run(parsed: Parsed): Promise<number>;
}

export const TARGET_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  stage: { type: 'string' },
  stack: { type: 'string' },
  region: { type: 'string' },
  local: { type: 'boolean' },
  'local-file': { type: 'string' },
};

export const TARGET_HELP = `Where (one of):
  --stage <name>        a deployed stage: the CloudFormation stack leverage-guard-<name>, read
                        with the default AWS credential chain (AWS_PROFILE, AWS_REGION...)
  --stack <name>        a stack with another name
  --region <region>     the stack's region (default: AWS_REGION / the profile's)
  --local               the local stack of \`npm start -- --serve\` (${'.local-run/stack.json'})
  --local-file <file>   the same, described in another file`;

export function targetOf(values: Parsed['values']): Target {
  return {
    stage: values.stage as string | undefined,
    stack: values.stack as string | undefined,
    region: values.region as string | undefined,
    local: (values['local-file'] as string | undefined) ?? (values.local as boolean | undefined),
  };
}
