// Standalone entry: `npm run simulator -- [--port 8090] [--host 127.0.0.1] [--seed path/to/seed.json]`.
// Prints the URL and the account names, runs until SIGINT / SIGTERM.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { defaultSeed, startBinanceSimulator } from './index.ts';
import type { SimulatorSeed } from './types.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8090' },
    host: { type: 'string', default: '127.0.0.1' },
    seed: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log('usage: npm run simulator -- [--port 8090] [--host 127.0.0.1] [--seed path/to/seed.json]');
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid --port ${values.port}`);
  process.exit(2);
}
const seed: SimulatorSeed =
  values.seed === undefined ? defaultSeed() : (JSON.parse(readFileSync(values.seed, 'utf8')) as SimulatorSeed);

const simulator = await startBinanceSimulator({ port, host: values.host, seed });
console.log(`Binance PAPI simulator listening on ${simulator.url}`);
console.log(`accounts: ${seed.accounts.map((a) => a.name).join(', ')}`);
console.log(`symbols: ${seed.symbols.map((s) => s.symbol).join(', ')}`);
console.log(`control API: ${simulator.url}/__sim/{faults,clock,reset,requests,state}`);

let stopping = false;
const stop = (signal: string): void => {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping simulator`);
  simulator.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
