/**
 * A minimal client for AWS JSON-protocol services (DynamoDB, SSM): one signed POST per call.
 *
 * Why not @aws-sdk/client-dynamodb and client-ssm: together they add about 320 KB to a bundle
 * whose two required clients are about 490 KB, for the four calls we make. This client reuses
 * what those two clients already bring, the SDK's SigV4 signer and its default credential chain,
 * and honours the same endpoint variables (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), so it
 * reaches moto in tests exactly as the SDK clients do.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Deadline } from '../../domain/ports.ts';
import { callBudgetMs } from '../../domain/time-budget.ts';
import { send } from '../http/keep-alive-client.ts';

export interface AwsJsonService {
  /** Signing name and default endpoint prefix, e.g. `dynamodb`, `ssm`. */
  service: string;
  /** The X-Amz-Target prefix, e.g. `DynamoDB_20120810`, `AmazonSSM`. */
  targetPrefix: string;
  /** `1.0` (DynamoDB) or `1.1` (SSM). */
  jsonVersion: '1.0' | '1.1';
  /** The SDK's service id for AWS_ENDPOINT_URL_<ID>, e.g. `DYNAMODB`, `SSM`. */
  endpointId: string;
}

/**
 * An error answered by the service, with its exception name (e.g. ConditionalCheckFailedException)
 * and the rest of its body (`details`: e.g. DynamoDB's failed `Item` or `CancellationReasons`).
 */
export class AwsServiceError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
    readonly statusCode: number,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = errorName;
  }
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

const toBytes = (data: SourceData): string | Uint8Array =>
  typeof data === 'string' ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);

/** SHA-256 / HMAC-SHA-256 in the shape the signer expects, from node:crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

/**
 * State-table and pause-switch calls answer in milliseconds; anything slower is an outage. The
 * caller's deadline cuts it shorter near the end of an invocation.
 */
const AWS_REQUEST_TIMEOUT_MS = 5000;

export type AwsJsonCall = <T = Record<string, unknown>>(operation: string, input: object, deadline?: Deadline) => Promise<T>;

export function createAwsJsonClient(spec: AwsJsonService, env: Record<string, string | undefined> = process.env): AwsJsonCall {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = new URL(env[`AWS_ENDPOINT_URL_${spec.endpointId}`] ?? env.AWS_ENDPOINT_URL ?? `https://${spec.service}.${region}.amazonaws.com`);
  const signer = new SignatureV4({ credentials: defaultProvider(), region, service: spec.service, sha256: NodeSha256 });

  return async <T>(operation: string, input: object, deadline?: Deadline): Promise<T> => {
    const body = JSON.stringify(input);
    const signed = await signer.sign({
      method: 'POST',
      protocol: endpoint.protocol,
      hostname: endpoint.hostname,
      port: endpoint.port ? Number(endpoint.port) : undefined,
      path: endpoint.pathname,
      query: {},
      headers: {
        host: endpoint.host,
        'content-type': `application/x-amz-json-${spec.jsonVersion}`,
        'x-amz-target': `${spec.targetPrefix}.${operation}`,
      },
      body,
    });
    const timeoutMs = callBudgetMs(AWS_REQUEST_TIMEOUT_MS, deadline, `${spec.service} ${operation}`);
    const { status, body: text } = await send({ method: 'POST', url: endpoint, headers: signed.headers, body, timeoutMs });
    if (status < 300) return (text ? JSON.parse(text) : {}) as T;
    const json = parseErrorBody(text);
    // __type is "namespace#ExceptionName" (DynamoDB) or "ExceptionName" (SSM), possibly with a
    // ":<uri>" suffix, which the protocol says to drop.
    const errorName = String(json.__type ?? `HTTP_${status}`).split('#').pop()!.split(':')[0]!;
    throw new AwsServiceError(errorName, String(json.message ?? json.Message ?? `HTTP ${status}`), status, json);
  };
}

/** A gateway's HTML error page must still end as an AwsServiceError with its status. */
function parseErrorBody(text: string): Record<string, unknown> {
  try {
    const value: unknown = text ? JSON.parse(text) : {};
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
