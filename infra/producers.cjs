// Who may send risk commands, made explicit: the stage's own EventBridge bus (the risk-event rule
// listens there and nowhere else) and resource policies on the bus and on the risk queue(s) that
// allow the producers named in params riskEventProducers and deny everyone else. Generated here,
// not written in YAML, because the policies exist only when producers are named, and each name is
// checked (a typo in a principal would otherwise lock out the real producer, or be rejected by
// CloudFormation mid-deployment).
// Used as `Resources: ${file(infra/producers.cjs)}` in serverless.yml. CommonJS for osls.
'use strict';

const { list } = require('./safety-params.cjs');

// A role (any path) or a whole account, in any partition.
const ROLE = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const ACCOUNT = /^arn:aws[a-z-]*:iam::(\d{12}):root$/;

function producersOf(raw) {
  return list(raw).map((arn) => {
    if (ROLE.test(arn)) return { allow: arn, principalArnPattern: arn };
    // A whole account: any of its principals (aws:PrincipalArn is the role or user, never :root).
    if (ACCOUNT.test(arn)) return { allow: arn, principalArnPattern: arn.replace(/:root$/, ':*') };
    throw new Error(`param riskEventProducers: ${JSON.stringify(arn)} is neither a role ARN (arn:aws:iam::<12 digits>:role/<name>) nor an account (arn:aws:iam::<12 digits>:root)`);
  });
}

/** Allow the producers `action` on `resource`; deny it to every other principal. */
function statements(producers, action, resource) {
  return [
    {
      Sid: 'NamedProducersMaySend',
      Effect: 'Allow',
      Principal: { AWS: producers.map((producer) => producer.allow) },
      Action: action,
      Resource: resource,
    },
    {
      // Without it any principal of this account with an IAM allow could still send: resource
      // policies only add. aws:PrincipalArn is absent for service principals, which are denied too.
      Sid: 'NobodyElseMaySend',
      Effect: 'Deny',
      Principal: '*',
      Action: action,
      Resource: resource,
      Condition: { ArnNotLike: { 'aws:PrincipalArn': producers.map((producer) => producer.principalArnPattern) } },
    },
  ];
}

function queuePolicy(queueId, condition, producers) {
  return {
    Type: 'AWS::SQS::QueuePolicy',
    Condition: condition,
    Properties: {
      Queues: [{ Ref: queueId }],
      PolicyDocument: { Version: '2012-10-17', Statement: statements(producers, 'sqs:SendMessage', { 'Fn::GetAtt': [queueId, 'Arn'] }) },
    },
  };
}

module.exports = async ({ resolveVariable }) => {
  const busName = await resolveVariable('self:custom.riskEventBusName');
  const producers = producersOf(await resolveVariable('param:riskEventProducers'));
  const bus = { Type: 'AWS::Events::EventBus', Properties: { Name: busName } };
  if (producers.length === 0) return { RiskEventBus: bus };
  bus.Properties.Policy = {
    Version: '2012-10-17',
    Statement: statements(producers, 'events:PutEvents', { 'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:event-bus/${busName}` }),
  };
  return {
    RiskEventBus: bus,
    RiskQueuePolicy: queuePolicy('RiskQueue', 'UseStandardQueue', producers),
    RiskFifoQueuePolicy: queuePolicy('RiskFifoQueue', 'UseFifoQueue', producers),
  };
};
