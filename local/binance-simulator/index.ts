// Public API of the local Binance Portfolio Margin (PAPI) simulator.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import seedJson from './seed.json' with { type: 'json' };
import { SimulatorCore } from './server.ts';
import type { BinanceSimulator, SimulatorOptions, SimulatorSeed } from './types.ts';

export type {
  BinanceSimulator,
  Fault,
  FaultRule,
  RecordedRequest,
  SimulatorAccountSeed,
  SimulatorBracket,
  SimulatorOptions,
  SimulatorSeed,
  SimulatorSymbolSeed,
} from './types.ts';

/** A fresh copy of the default seed (seed.json). */
export function defaultSeed(): SimulatorSeed {
  const { accounts, symbols, defaultLeverage, weightLimitPerMinute } = structuredClone(seedJson as unknown as SimulatorSeed);
  return { accounts, symbols, defaultLeverage, weightLimitPerMinute };
}

export async function startBinanceSimulator(options: SimulatorOptions = {}): Promise<BinanceSimulator> {
  const core = new SimulatorCore(options.seed ?? defaultSeed(), options.now ?? Date.now);
  const server = createServer(core.listener);
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const { state } = core;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    injectFault: (rule) => core.faults.add(rule),
    clearFaults: () => core.faults.clear(),
    setClockSkewMs: (ms) => {
      core.skewMs = ms;
    },
    requests: () => core.requests(),
    leverageOf: (account, symbol) => state.leverageOf(state.account(account), symbol),
    setLeverage: (account, symbol, leverage) => state.setLeverage(state.account(account), symbol, leverage),
    setPosition: (account, symbol, positionAmt) => state.setPosition(state.account(account), symbol, positionAmt),
    usedWeight: () => core.limiter.usedWeight(),
    reset: () => core.reset(),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
