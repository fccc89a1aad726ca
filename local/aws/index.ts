// Local AWS harness: moto server, clients aimed at it, the leverage-guard resources, a local
// stand-in for the SQS event-source mapping and readers for what the function published.
export * from './clients.ts';
export * from '../../functions/contract/event-pattern.ts';
export * from './moto-server.ts';
export * from './outcomes.ts';
export * from './resources.ts';
export * from './sqs-poller.ts';
