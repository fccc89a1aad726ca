/**
 * SNS PublishBatch in a few lines: one signed form POST (the Query protocol), its XML reply read
 * strictly. The only SNS call the function makes.
 *
 * Why not @aws-sdk/client-sns: a PublishBatch of 10 outcomes through the SDK client cost 0.86 ms
 * of CPU against 0.31 ms here, one bare signed node:http call 0.21 ms (ten in flight: 0.66 against
 * 0.25 ms; bench/profile/cpu-profile.ts --transport --transport-modes sdkBatch,batch, one run,
 * after 300 warm-up calls). In the function's warm batches, where code run once per request is
 * not yet optimised, the SDK cost more: CPU per record as deployed went from 1.34 to 1.12 ms (5.8
 * to 4.9 times the bare call; cpu-profile.ts, both bundles interleaved, 5 x 10 batches of 10), and
 * the quick bench's profile lost its "AWS SDK: middleware, serde, retry" group (19 % before). The
 * bundle lost 40 KB (client-sns), and its import 1.16 to 1.00 times the bare SDK bundle's CPU.
 * Like the AWS JSON client (aws-json-client.ts) this one signs with sigv4.ts, takes the SDK's
 * default credential chain and honours AWS_ENDPOINT_URL_SNS / AWS_ENDPOINT_URL, so it reaches
 * moto in tests as the SDK did.
 *
 * Retries: one, at once, when the connection failed (a reset, a closed socket: typically a
 * keep-alive connection SNS closed while the container was frozen, which the SDK retried too),
 * within the same 5 s and deadline. An error answer, a timeout or a reply that does not parse is
 * not retried: the request fails, and so do its entries' records, which go back to their queue
 * (the publisher's contract). A retried request may have been delivered: subscribers can see an
 * outcome twice, as they can after any redelivery.
 *
 * Fail closed: a reply that is not exactly the XML SNS documents (an HTML gateway page, a cut-off
 * body, an unknown entity, a member without its Id) throws, and the publisher rejects every entry
 * of the request.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { Deadline } from '../../domain/ports.ts';
import { callBudgetMs } from '../../domain/time-budget.ts';
import { AwsServiceError, serviceEndpoint } from '../aws-json/aws-json-client.ts';
import { PostSigner } from '../aws-json/sigv4.ts';
import { AWS_CALL_TIMEOUT_MS } from '../aws-sdk/bounded-call.ts';
import { send, TransportError } from '../http/keep-alive-client.ts';

/** A message attribute as SNS takes it; ours are all strings. */
export interface StringAttribute {
  DataType: 'String';
  StringValue: string;
}

export interface PublishBatchEntry {
  /** Unique within its request: letters, digits, `-` and `_`, up to 80 characters. */
  Id: string;
  Message: string;
  MessageAttributes: Record<string, StringAttribute>;
}

export interface PublishBatchInput {
  TopicArn: string;
  PublishBatchRequestEntries: PublishBatchEntry[];
}

export interface PublishBatchOutput {
  Successful: { Id: string; MessageId?: string }[];
  Failed: { Id: string; Code: string; Message?: string; SenderFault: boolean }[];
}

/** One PublishBatch request, bounded by the deadline; throws when the request as a whole failed. */
export type PublishBatchCall = (input: PublishBatchInput, deadline?: Deadline) => Promise<PublishBatchOutput>;

const FORM = 'application/x-www-form-urlencoded';

export function createPublishBatchCall(env: Record<string, string | undefined> = process.env): PublishBatchCall {
  const { region, endpoint } = serviceEndpoint('sns', 'SNS', env);
  const signer = new PostSigner(region, 'sns', endpoint.host, endpoint.pathname);
  const credentials = defaultProvider();
  return async (input, deadline) => {
    const body = encodePublishBatch(input);
    const started = Date.now();
    // Both attempts together: within 5 s and the caller's deadline.
    const call: Deadline = { remainingMs: () => Math.min(AWS_CALL_TIMEOUT_MS - (Date.now() - started), deadline?.remainingMs() ?? Infinity) };
    for (let attempt = 1; ; attempt++) {
      const headers = signer.sign(await credentials(), FORM, undefined, body, new Date());
      const timeoutMs = callBudgetMs(AWS_CALL_TIMEOUT_MS, call, 'sns PublishBatch');
      try {
        const { status, body: reply } = await send({ method: 'POST', url: endpoint, headers, body, timeoutMs });
        return parsePublishBatchReply(status, reply);
      } catch (error) {
        if (attempt > 1 || !(error instanceof TransportError) || error.kind !== 'network') throw error;
      }
    }
  };
}

/** RFC 3986 percent-encoding, as the SDK's Query serializer does (`+` is data, never a space). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The form body: lists are `member.N`, maps `entry.N.Name` / `entry.N.Value`, N from 1. */
export function encodePublishBatch(input: PublishBatchInput): string {
  let body = `Action=PublishBatch&Version=2010-03-31&TopicArn=${encode(input.TopicArn)}`;
  input.PublishBatchRequestEntries.forEach((entry, index) => {
    const member = `&PublishBatchRequestEntries.member.${index + 1}.`;
    body += `${member}Id=${encode(entry.Id)}${member}Message=${encode(entry.Message)}`;
    Object.entries(entry.MessageAttributes).forEach(([name, value], n) => {
      const attribute = `${member}MessageAttributes.entry.${n + 1}.`;
      body += `${attribute}Name=${encode(name)}${attribute}Value.DataType=${encode(value.DataType)}${attribute}Value.StringValue=${encode(value.StringValue)}`;
    });
  });
  return body;
}

/** The result of a 2xx reply; an AwsServiceError for an error reply or one that does not parse. */
export function parsePublishBatchReply(status: number, text: string): PublishBatchOutput {
  const root = parseXml(text);
  if (status >= 300) {
    const error = root?.name === 'ErrorResponse' ? only(root, 'Error') : undefined;
    const code = error && only(error, 'Code')?.text;
    if (!error || !code) throw new AwsServiceError(`HTTP_${status}`, `SNS answered HTTP ${status} with a body that is not an SNS error`, status);
    throw new AwsServiceError(code, only(error, 'Message')?.text ?? `HTTP ${status}`, status);
  }
  const result = root?.name === 'PublishBatchResponse' ? only(root, 'PublishBatchResult') : undefined;
  if (!result) throw unparsable(status);
  const members = (list: string) => {
    const element = only(result, list);
    if (element && element.children.some((child) => child.name !== 'member')) throw unparsable(status);
    return element?.children ?? [];
  };
  const successful = members('Successful').map((member) => ({ Id: only(member, 'Id')?.text ?? '', MessageId: only(member, 'MessageId')?.text }));
  const failed = members('Failed').map((member) => ({
    Id: only(member, 'Id')?.text ?? '',
    Code: only(member, 'Code')?.text ?? '',
    Message: only(member, 'Message')?.text,
    SenderFault: only(member, 'SenderFault')?.text === 'true',
  }));
  if ([...successful, ...failed].some((entry) => entry.Id === '') || failed.some((entry) => entry.Code === '')) throw unparsable(status);
  return { Successful: successful, Failed: failed };
}

function unparsable(status: number): AwsServiceError {
  return new AwsServiceError('UnparsableReply', `SNS answered PublishBatch (HTTP ${status}) with a reply that is not a PublishBatchResponse`, status);
}

interface XmlElement {
  name: string;
  children: XmlElement[];
  /** The element's own text, entities decoded. */
  text: string;
}

/** The single child of that name; undefined when absent, and when repeated (ambiguous). */
function only(element: XmlElement, name: string): XmlElement | undefined {
  const found = element.children.filter((child) => child.name === name);
  return found.length === 1 ? found[0] : undefined;
}

// A start tag (attributes allowed and ignored: xmlns), an end tag, an empty-element tag, or text.
const TOKEN = /<(\/?)([A-Za-z_][\w.-]*)(?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*\s*(\/?)>|([^<]+)/y;
const ENTITY = /&(?:(amp|lt|gt|quot|apos)|#(\d{1,7})|#x([\da-fA-F]{1,6}));/g;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The subset of XML SNS answers with: an optional declaration, elements, text and the predefined
 * and numeric entities. Anything else (comments, CDATA, a DOCTYPE, mismatched or unclosed tags,
 * text outside the root, a second root, a bare `&`) gives undefined.
 */
function parseXml(text: string): XmlElement | undefined {
  const body = text.replace(/^\uFEFF?\s*(?:<\?xml[^?]*\?>)?/, '');
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < body.length) {
    const token = TOKEN.exec(body);
    if (!token) return undefined;
    const [, close, name, selfClosing, chars] = token;
    const parent = stack[stack.length - 1];
    if (chars !== undefined) {
      if (parent) {
        const decoded = decodeEntities(chars);
        if (decoded === undefined) return undefined;
        parent.text += decoded;
      } else if (chars.trim() !== '') return undefined;
    } else if (close) {
      if (selfClosing || stack.pop()?.name !== name) return undefined;
    } else {
      if (!parent && root) return undefined;
      const element: XmlElement = { name: name!, children: [], text: '' };
      if (parent) parent.children.push(element);
      else root = element;
      if (!selfClosing) stack.push(element);
    }
  }
  return stack.length === 0 ? root : undefined;
}

/** Text with its entities decoded; undefined for a bare `&`, an unknown entity or a code point XML forbids. */
function decodeEntities(chars: string): string | undefined {
  if (!chars.includes('&')) return chars;
  if (chars.replace(ENTITY, '').includes('&')) return undefined;
  let valid = true;
  const decoded = chars.replace(ENTITY, (_entity, named: string | undefined, decimal: string | undefined, hex: string | undefined) => {
    if (named) return NAMED[named]!;
    const code = decimal ? Number(decimal) : Number.parseInt(hex!, 16);
    valid &&= code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff);
    return valid ? String.fromCodePoint(code) : '';
  });
  return valid ? decoded : undefined;
}
