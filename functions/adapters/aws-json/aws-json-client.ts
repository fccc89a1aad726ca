/**
 * A minimal client for AWS JSON-protocol services (DynamoDB, SSM): one signed POST per call.
 *
 * Why not @aws-sdk/client-dynamodb and client-ssm: together they add about 320 KB to a bundle
 * whose two required clients are about 490 KB, for the four calls we make. This client reuses
 * the default credential chain those two clients already bring, signs with sigv4.ts, and honours
 * the same endpoint variables (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), so it reaches moto
 * in tests exactly as the SDK clients do.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Deadline } from '../../domain/ports.ts';
import { callBudgetMs } from '../../domain/time-budget.ts';
import { send } from '../http/keep-alive-client.ts';
import { PostSigner } from './sigv4.ts';

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

/**
 * State-table and pause-switch calls answer in milliseconds; anything slower is an outage. The
 * caller's deadline cuts it shorter near the end of an invocation.
 */
const AWS_REQUEST_TIMEOUT_MS = 5000;

/**
 * Where a service is reached, as the SDK's clients resolve it: AWS_ENDPOINT_URL_<ID>, then
 * AWS_ENDPOINT_URL (moto in tests), then the service's regional endpoint.
 */
export function serviceEndpoint(service: string, endpointId: string, env: Record<string, string | undefined>): { region: string; endpoint: URL } {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  return { region, endpoint: new URL(env[`AWS_ENDPOINT_URL_${endpointId}`] ?? env.AWS_ENDPOINT_URL ?? `https://${service}.${region}.amazonaws.com`) };
}

export type AwsJsonCall = <T = Record<string, unknown>>(operation: string, input: object, deadline?: Deadline) => Promise<T>;

export function createAwsJsonClient(spec: AwsJsonService, env: Record<string, string | undefined> = process.env): AwsJsonCall {
  const { region, endpoint } = serviceEndpoint(spec.service, spec.endpointId, env);
  const signer = new PostSigner(region, spec.service, endpoint.host, endpoint.pathname);
  const credentials = defaultProvider();
  const contentType = `application/x-amz-json-${spec.jsonVersion}`;

  return async <T>(operation: string, input: object, deadline?: Deadline): Promise<T> => {
    const body = JSON.stringify(input);
    const headers = signer.sign(await credentials(), contentType, `${spec.targetPrefix}.${operation}`, body, new Date());
    const timeoutMs = callBudgetMs(AWS_REQUEST_TIMEOUT_MS, deadline, `${spec.service} ${operation}`);
    const { status, body: text } = await send({ method: 'POST', url: endpoint, headers, body, timeoutMs });
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
