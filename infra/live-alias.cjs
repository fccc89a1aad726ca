// osls plugin: every trigger invokes the function through the alias `live`, which points at the
// version this deployment published, so a bad deploy is rolled back with one command that moves
// the alias to an earlier version (docs/deploy.md, Rollback); nothing invokes $LATEST.
//
// osls publishes a version per deployment (provider.versionFunctions) but only aliases a function
// for provisioned concurrency or SnapStart, and wires its own events to $LATEST. So once osls has
// merged infra/*.yml into the template, this adds the alias and points at it whatever invokes the
// function: SQS event source mappings (also ones added later), the EventBridge rule target and its
// Lambda permission, Scheduler targets and the role they use, and the async invocation config
// (retries and on-failure destination are per qualifier). Alarms and the dashboard keep the plain
// function name: its metrics aggregate every version.
'use strict';

const ALIAS_NAME = 'live';
const { ALIAS_ID, FUNCTION_ID } = require('./function-ids.cjs');
const ALIAS = { Ref: ALIAS_ID };

/** `{Ref: fn}` or `{Fn::GetAtt: [fn, Arn]}`: the unqualified function, as name or ARN. */
function isFunction(node) {
  if (!node || typeof node !== 'object') return false;
  if (node.Ref === FUNCTION_ID) return true;
  const getAtt = node['Fn::GetAtt'];
  return Array.isArray(getAtt) && getAtt[0] === FUNCTION_ID && getAtt[1] === 'Arn';
}

// The async config names the alias by its name, not a Ref: it must wait for the alias explicitly.
function dependOnAlias(resource) {
  const dependsOn = [resource.DependsOn ?? []].flat().filter((id) => id !== ALIAS_ID);
  resource.DependsOn = [...dependsOn, ALIAS_ID];
}

// Per resource type: point its invocation target at the alias (a Ref, which also orders the
// deployment after the alias); true when it invokes the function.
const RETARGET = {
  'AWS::Lambda::EventSourceMapping': (properties) => retarget(properties, 'FunctionName'),
  'AWS::Lambda::Permission': (properties) => retarget(properties, 'FunctionName'),
  'AWS::Events::Rule': (properties) => (properties.Targets ?? []).map((target) => retarget(target, 'Arn')).some(Boolean),
  'AWS::Scheduler::Schedule': (properties) => retarget(properties.Target ?? {}, 'Arn'),
  'AWS::Lambda::EventInvokeConfig': (properties, resource) => {
    if (!isFunction(properties.FunctionName)) return false;
    properties.Qualifier = ALIAS_NAME;
    dependOnAlias(resource);
    return true;
  },
  // A role allowed to invoke the function (Scheduler's): an unqualified ARN does not cover the alias.
  'AWS::IAM::Role': (properties) =>
    (properties.Policies ?? [])
      .flatMap((policy) => policy.PolicyDocument.Statement)
      .filter((statement) => [statement.Action].flat().includes('lambda:InvokeFunction'))
      .map((statement) => {
        const resources = [statement.Resource].flat();
        if (!resources.some(isFunction)) return false;
        statement.Resource = resources.map((resource) => (isFunction(resource) ? ALIAS : resource));
        return true;
      })
      .some(Boolean),
};

function retarget(holder, key) {
  if (!isFunction(holder[key])) return false;
  holder[key] = ALIAS;
  return true;
}

function addLiveAlias(template) {
  const versions = Object.entries(template.Resources).filter(
    ([, resource]) => resource.Type === 'AWS::Lambda::Version' && resource.Properties.FunctionName?.Ref === FUNCTION_ID,
  );
  if (versions.length !== 1) throw new Error(`live-alias: expected one AWS::Lambda::Version of ${FUNCTION_ID} (provider.versionFunctions: true), found ${versions.length}`);
  const [[versionId]] = versions;
  template.Resources[ALIAS_ID] = {
    Type: 'AWS::Lambda::Alias',
    Properties: {
      FunctionName: { Ref: FUNCTION_ID },
      FunctionVersion: { 'Fn::GetAtt': [versionId, 'Version'] },
      Name: ALIAS_NAME,
      Description: 'What every trigger invokes. Roll back: aws lambda update-alias --name live --function-version <previous> (docs/deploy.md).',
    },
  };
  const retargeted = Object.values(template.Resources).filter((resource) => RETARGET[resource.Type]?.(resource.Properties ?? {}, resource));
  // Nothing found to retarget means osls changed how it wires triggers: stop rather than ship an
  // alias that nothing invokes (and a rollback that rolls back nothing).
  if (retargeted.length === 0) throw new Error('live-alias: no trigger of the function found to point at the alias');
  template.Outputs.LiveAliasArn = { Description: 'The alias every trigger invokes (rollback moves it).', Value: ALIAS };
}

class LiveAlias {
  constructor(serverless) {
    this.hooks = {
      // After infra/*.yml (queues, schedules, roles) are merged into the compiled template.
      'after:aws:package:finalize:mergeCustomProviderResources': () =>
        addLiveAlias(serverless.service.provider.compiledCloudFormationTemplate),
    };
  }
}

module.exports = LiveAlias;
module.exports.addLiveAlias = addLiveAlias;
