import type { HttpResponse } from '../../../../functions/adapters/http/keep-alive-client.ts';
import {
  ClockSkewError,
  interpretResponse,
  RateLimitedError,
  usedWeight,
} from '../../../../functions/adapters/binance/responses.ts';
import { thrownBy } from '../../../support/fakes.ts';
import { AuthenticationError, ExecutionUnknownError, type GuardError, PermanentError, RetryableError } from '../../../../functions/domain/errors.ts';

/** When the response arrived, on the client's clock (Retry-After dates are relative to it). */
const NOW = Date.UTC(2026, 10, 25, 10, 0, 0);

function response(status: number, body: string | object, headers: Record<string, string | string[]> = {}): HttpResponse {
  return { status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

const binance = (code: number, msg: string) => ({ code, msg });

const failureOf = (reply: HttpResponse) => thrownBy<GuardError>(() => interpretResponse(reply, NOW));

/** The class name and the fields every caller reads. */
function describeError(error: GuardError) {
  return {
    type: error.constructor.name,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    retryAfterMs: (error as RetryableError).retryAfterMs,
    banned: (error as Partial<RateLimitedError>).banned,
  };
}

describe('interpretResponse: 2xx', () => {
  test.each([
    ['{"symbol":"BTCUSDT","leverage":21,"maxNotionalValue":"1000000"}', { symbol: 'BTCUSDT', leverage: 21, maxNotionalValue: '1000000' }],
    ['[{"symbol":"BTCUSDT","leverage":21}]', [{ symbol: 'BTCUSDT', leverage: 21 }]],
    ['{}', {}],
    ['null', null],
  ])('200 %s is returned decoded', (body, value) => {
    expect(interpretResponse(response(200, body), NOW)).toStrictEqual(value);
  });

  test.each(['', '<html>ok</html>', '{"leverage":'])('200 %p (not JSON) is an ExecutionUnknownError MALFORMED_RESPONSE', (body) => {
    const error = failureOf(response(200, body));
    expect(error).toBeInstanceOf(ExecutionUnknownError);
    expect([error.code, error.message]).toEqual(['MALFORMED_RESPONSE', 'HTTP 200 with a body that is not JSON']);
  });
});

const NOT_BINANCE = " (not from Binance's matching engine; a WAF or proxy?)";

describe('interpretResponse: failures', () => {
  const UNKNOWN_MSG = 'Unknown error, please check your request or try again later.';
  const base = { retryAfterMs: undefined, banned: undefined };
  type Row = [string, HttpResponse, ReturnType<typeof describeError>];
  const permanent = (code: number, msg: string, status = 400): Row =>
    [`${status} ${code}`, response(status, binance(code, msg)), { ...base, type: 'PermanentError', code, message: `Binance ${code}: ${msg}`, retryable: false }];
  const rateLimited = (name: string, reply: HttpResponse, code: number | string, message: string, retryAfterMs: number, banned: boolean): Row =>
    [name, reply, { type: 'RateLimitedError', code, message, retryable: true, retryAfterMs, banned }];
  const of = (type: string, code: number | string, message: string) => ({ ...base, type, code, message, retryable: true });
  const REFUSED_KEY = " (the account's API key was refused: check the key, its permissions and IP whitelist)";
  /** The key, not the event: retried (and redrivable from the DLQ once fixed), never REJECTED. */
  const authentication = (code: number, msg: string, status: number): Row =>
    [`${status} ${code}: the key was refused`, response(status, binance(code, msg)), of('AuthenticationError', code, `Binance ${code}: ${msg}${REFUSED_KEY}`)];

  test.each<Row>([
    // Rate limits and bans
    rateLimited('418 with Retry-After', response(418, binance(-1003, 'Way too many requests; IP banned.'), { 'retry-after': '7200' }), -1003, 'Binance -1003: Way too many requests; IP banned.', 7_200_000, true),
    rateLimited('418 plain, no Retry-After: 2 minutes', response(418, 'banned'), 'HTTP_418', 'HTTP 418 with a body that is not Binance JSON', 120_000, true),
    rateLimited('429 Retry-After in seconds', response(429, binance(-1003, 'Too many requests.'), { 'retry-after': '15' }), -1003, 'Binance -1003: Too many requests.', 15_000, false),
    rateLimited('429 Retry-After 0', response(429, binance(-1003, 'Too many requests.'), { 'retry-after': '0' }), -1003, 'Binance -1003: Too many requests.', 0, false),
    rateLimited('429 Retry-After as an HTTP-date', response(429, '', { 'retry-after': new Date(NOW + 30_000).toUTCString() }), 'HTTP_429', 'HTTP 429 with a body that is not Binance JSON', 30_000, false),
    rateLimited('429 Retry-After as a past HTTP-date', response(429, '', { 'retry-after': new Date(NOW - 30_000).toUTCString() }), 'HTTP_429', 'HTTP 429 with a body that is not Binance JSON', 0, false),
    rateLimited('429 Retry-After repeated: the first counts', response(429, '', { 'retry-after': ['3', '9'] }), 'HTTP_429', 'HTTP 429 with a body that is not Binance JSON', 3_000, false),
    rateLimited('429 without Retry-After: 10 s', response(429, binance(-1003, 'Too many requests.')), -1003, 'Binance -1003: Too many requests.', 10_000, false),
    rateLimited('429 with garbage Retry-After: 10 s', response(429, '', { 'retry-after': 'soon' }), 'HTTP_429', 'HTTP 429 with a body that is not Binance JSON', 10_000, false),
    rateLimited('-1003 on a 400', response(400, binance(-1003, 'Too many requests.'), { 'retry-after': '2' }), -1003, 'Binance -1003: Too many requests.', 2_000, false),
    rateLimited('-1003 on a 503', response(503, binance(-1003, 'Too many requests.')), -1003, 'Binance -1003: Too many requests.', 10_000, false),
    // Clock
    ['400 -1021 outside recvWindow', response(400, binance(-1021, 'Timestamp for this request is outside of the recvWindow.')), of('ClockSkewError', -1021, 'Binance -1021: Timestamp for this request is outside of the recvWindow.')],
    ['400 -1021 ahead', response(400, binance(-1021, "Timestamp for this request was 1000ms ahead of the server's time.")), of('ClockSkewError', -1021, "Binance -1021: Timestamp for this request was 1000ms ahead of the server's time.")],
    // Execution unknown
    ['503 Unknown error (JSON)', response(503, binance(-1000, UNKNOWN_MSG)), of('ExecutionUnknownError', -1000, `Binance -1000: ${UNKNOWN_MSG}`)],
    ['503 Unknown error (plain text)', response(503, UNKNOWN_MSG), of('ExecutionUnknownError', 'HTTP_503', 'HTTP 503 with a body that is not Binance JSON')],
    ['503 other plain text', response(503, '<html>Bad gateway</html>'), of('ExecutionUnknownError', 'HTTP_503', 'HTTP 503 with a body that is not Binance JSON')],
    ['503 empty body', response(503, ''), of('ExecutionUnknownError', 'HTTP_503', 'HTTP 503 with a body that is not Binance JSON')],
    ['400 -1006', response(400, binance(-1006, 'An unexpected response was received from the message bus. Execution status unknown.')), of('ExecutionUnknownError', -1006, 'Binance -1006: An unexpected response was received from the message bus. Execution status unknown.')],
    ['408 -1007', response(408, binance(-1007, 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.')), of('ExecutionUnknownError', -1007, 'Binance -1007: Timeout waiting for response from backend server. Send status unknown; execution status unknown.')],
    ['500 -1007', response(500, binance(-1007, 'Timeout')), of('ExecutionUnknownError', -1007, 'Binance -1007: Timeout')],
    // Certainly not executed: retry
    ['503 Service Unavailable. (JSON)', response(503, binance(-1001, 'Service Unavailable.')), of('RetryableError', -1001, 'Binance -1001: Service Unavailable.')],
    ['503 Service Unavailable. (plain text)', response(503, 'Service Unavailable.'), of('RetryableError', 'HTTP_503', 'HTTP 503 with a body that is not Binance JSON')],
    ['400 -1008 throttled', response(400, binance(-1008, 'Request throttled by system-level protection.')), of('RetryableError', -1008, 'Binance -1008: Request throttled by system-level protection.')],
    ['503 -1008 throttled', response(503, binance(-1008, 'Request throttled by system-level protection.')), of('RetryableError', -1008, 'Binance -1008: Request throttled by system-level protection.')],
    ['500 -1001', response(500, binance(-1001, 'Internal error; unable to process your request. Please try again.')), of('RetryableError', -1001, 'Binance -1001: Internal error; unable to process your request. Please try again.')],
    ['502 HTML: a gateway error leaves execution unknown', response(502, '<html>502</html>'), of('ExecutionUnknownError', 'HTTP_502', 'HTTP 502 with a body that is not Binance JSON')],
    // The request itself is wrong: permanent
    permanent(-1121, 'Invalid symbol.'),
    permanent(-4028, 'Leverage 200 is not valid'),
    permanent(-2027, 'Exceeded the maximum allowable position at current leverage.'),
    permanent(-2028, 'Leverage is smaller than permitted: insufficient margin balance.'),
    permanent(-1102, "Mandatory parameter 'leverage' was not sent, was empty/null, or malformed."),
    permanent(-1130, "Invalid data sent for a parameter."),
    // The account's key was refused: an operator fixes it, the event is not at fault
    authentication(-1022, 'Signature for this request is not valid.', 400),
    authentication(-2015, 'Invalid API-key, IP, or permissions for action.', 401),
    authentication(-2015, 'Invalid API-key, IP, or permissions for action.', 400),
    authentication(-2014, 'API-key format invalid.', 401),
    authentication(-2014, 'API-key format invalid.', 400),
    authentication(-2015, 'Invalid API-key, IP, or permissions for action.', 403),
    permanent(-2023, 'User in liquidation mode now.'),
    permanent(-4161, 'Leverage reduction is not supported in Isolated Margin Mode with open positions.'),
    ['403 WAF (HTML): not Binance\'s verdict, so retried', response(403, '<html><body>403 Forbidden</body></html>'), { ...base, type: 'RetryableError', code: 'HTTP_403', message: `HTTP 403 with a body that is not Binance JSON${NOT_BINANCE}`, retryable: true }],
    ['404 JSON without code/msg: not Binance\'s verdict, so retried', response(404, { error: 'not found' }), { ...base, type: 'RetryableError', code: 'HTTP_404', message: `HTTP 404 with a body that is not Binance JSON${NOT_BINANCE}`, retryable: true }],
  ])('%s', (_name, reply, expected) => {
    expect(describeError(failureOf(reply))).toStrictEqual(expected);
  });

  test('the classes form the taxonomy callers rely on', () => {
    expect(failureOf(response(429, ''))).toBeInstanceOf(RetryableError);
    expect(failureOf(response(400, binance(-1021, 'x')))).toBeInstanceOf(ClockSkewError);
    expect(failureOf(response(400, binance(-1121, 'x')))).toBeInstanceOf(PermanentError);
    for (const code of [-2014, -2015, -1022]) {
      const refused = failureOf(response(401, binance(code, 'x')));
      expect([refused instanceof AuthenticationError, refused instanceof RetryableError, refused instanceof PermanentError]).toEqual([true, true, false]);
    }
    expect(failureOf(response(503, 'x'))).not.toBeInstanceOf(RateLimitedError);
  });

  test('an invalid negative Retry-After falls back to the default', () => {
    expect((failureOf(response(429, '', { 'retry-after': '-5' })) as RateLimitedError).retryAfterMs).toBe(10_000);
  });
});

describe('usedWeight', () => {
  test.each([
    [{ 'x-mbx-used-weight-1m': '1187' }, 1187],
    [{ 'x-mbx-used-weight-1m': '0' }, 0],
    [{ 'x-mbx-used-weight-1m': 'lots' }, undefined],
    [{}, undefined],
  ])('%p → %p', (headers, weight) => {
    expect(usedWeight(response(200, '{}', headers))).toBe(weight);
  });

  test('an empty header is not reported as 0', () => {
    expect(usedWeight(response(200, '{}', { 'x-mbx-used-weight-1m': '' }))).toBeUndefined();
  });
});
