/**
 * The simulator behind TLS on loopback, for the exchange-client comparison over https (what the
 * clients do against the real exchange: keep-alive TLS connections, or not). The simulator's own
 * request handler (SimulatorCore) is served by node:https with a throw-away self-signed
 * certificate for 127.0.0.1 made by the openssl CLI; clients trust it through
 * NODE_EXTRA_CA_CERTS. Without openssl the TLS comparison is skipped.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { SimulatorSeed } from '../local/binance-simulator/index.ts';
import { SimulatorCore } from '../local/binance-simulator/server.ts';
import { OUT_DIR } from './build.ts';
import type { SimulatorView } from './client-bench.ts';

export interface TlsSimulator extends SimulatorView {
  /** Environment that makes a child `node` trust the certificate. */
  clientEnv: Record<string, string>;
  close(): Promise<void>;
}

/** A self-signed certificate for 127.0.0.1, or the reason there is none. */
function makeCertificate(): { key: string; cert: string; certPath: string } | { error: string } {
  const dir = path.join(OUT_DIR, 'tls');
  mkdirSync(dir, { recursive: true });
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
        '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', keyPath, '-out', certPath],
      { stdio: 'pipe' },
    );
  } catch (error) {
    return { error: `openssl could not make a certificate (${error instanceof Error ? error.message.split('\n')[0] : String(error)})` };
  }
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath };
}

export async function startTlsSimulator(seed: SimulatorSeed): Promise<TlsSimulator | { error: string }> {
  const certificate = makeCertificate();
  if ('error' in certificate) return certificate;
  const core = new SimulatorCore(seed, Date.now);
  const server = createServer({ key: certificate.key, cert: certificate.cert }, core.listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    clientEnv: { NODE_EXTRA_CA_CERTS: certificate.certPath },
    reset: () => core.reset(),
    requests: () => core.requests(),
    leverageOf: (account, symbol) => core.state.leverageOf(core.state.account(account), symbol),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
