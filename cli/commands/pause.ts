import { GetParameterCommand, ParameterNotFound, PutParameterCommand } from '@aws-sdk/client-ssm';
import type { Deployment } from '../deployment.ts';
import { type Command, TARGET_HELP, TARGET_OPTIONS, targetOf } from '../command.ts';
import { withDeployment } from '../with-deployment.ts';
import { EXIT, print } from '../output.ts';

export type PauseState = { paused: boolean; value?: string } | { paused: 'unknown'; error: string };

/** As the function reads it: "true" pauses; missing or anything else runs; unreadable is paused there. */
export async function readPauseSwitch(deployment: Deployment): Promise<PauseState> {
  try {
    const { Parameter } = await deployment.clients.ssm.send(new GetParameterCommand({ Name: deployment.pauseParameterName }));
    return { paused: Parameter?.Value === 'true', value: Parameter?.Value };
  } catch (error) {
    if (error instanceof ParameterNotFound) return { paused: false };
    return { paused: 'unknown', error: `${(error as Error).name}: ${(error as Error).message}` };
  }
}

function switchCommand(name: 'pause' | 'resume'): Command {
  const value = name === 'pause' ? 'true' : 'false';
  return {
    name,
    summary: name === 'pause' ? 'stop all exchange traffic of a stage (the pause switch)' : 'end a pause',
    usage: `leverage-guard ${name} (--stage <name> | --local)

Sets the stage's pause parameter (stack output PauseParameterName) to "${value}" and reads it back.
${name === 'pause'
  ? `Each function instance sees it within 10 s; an invocation already past the check finishes
(at most the function timeout). SQS records are handed back while paused and reach the DLQ with a
FAILED (PAUSED) outcome after maxReceiveCount receives; see docs/deploy.md, Runbook.`
  : `Records handed back while paused are retried on their next receive; redrive what reached the
DLQs with \`leverage-guard redrive\`.`}

${TARGET_HELP}`,
    options: TARGET_OPTIONS,
    async run({ values }) {
      return withDeployment(targetOf(values), async (deployment) => {
        await deployment.clients.ssm.send(
          new PutParameterCommand({ Name: deployment.pauseParameterName, Value: value, Type: 'String', Overwrite: true }),
        );
        const state = await readPauseSwitch(deployment);
        if (state.paused !== (name === 'pause')) {
          print(`${deployment.pauseParameterName} did not read back as "${value}": ${JSON.stringify(state)}`);
          return EXIT.NOT_OK;
        }
        print(`${name === 'pause' ? 'paused' : 'resumed'}: ${deployment.pauseParameterName} = ${value} (${deployment.label})`);
        return EXIT.OK;
      });
    },
  };
}

export const pause = switchCommand('pause');
export const resume = switchCommand('resume');
