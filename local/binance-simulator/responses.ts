// Response values and Binance's error catalogue (codes, HTTP statuses and message texts).
import { STATUS_CODES } from 'node:http';

export interface SimResponse {
  status: number;
  body: string;
  contentType: string;
  /** Binance error code carried in the body, if any. */
  code?: number;
  headers?: Record<string, string>;
}

export function json(status: number, value: unknown, headers?: Record<string, string>): SimResponse {
  return { status, body: JSON.stringify(value), contentType: 'application/json', headers };
}

export function apiError(status: number, code: number, msg: string, headers?: Record<string, string>): SimResponse {
  return { ...json(status, { code, msg }, headers), code };
}

export function text(status: number, body: string, contentType = 'text/plain'): SimResponse {
  return { status, body, contentType };
}

/** The HTML page a gateway (nginx / CloudFront) sends for a non-JSON 4xx/5xx. */
export function htmlStatusPage(status: number): SimResponse {
  const title = `${status} ${STATUS_CODES[status] ?? 'Error'}`;
  return text(
    status,
    `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
    'text/html',
  );
}

const retryAfter = (seconds: number): Record<string, string> => ({ 'Retry-After': String(seconds) });

export const errors = {
  notFound: (): SimResponse => htmlStatusPage(404),
  invalidApiKey: () => apiError(401, -2015, 'Invalid API-key, IP, or permissions for action.'),
  apiKeyFormat: () => apiError(401, -2014, 'API-key format invalid.'),
  mandatory: (param: string) =>
    apiError(400, -1102, `Mandatory parameter '${param}' was not sent, was empty/null, or malformed.`),
  illegalChars: () => apiError(400, -1100, 'Illegal characters found in a parameter.'),
  duplicateParam: () => apiError(400, -1101, 'Duplicate values for a parameter detected.'),
  invalidParam: (param: string) => apiError(400, -1130, `Data sent for parameter '${param}' is not valid.`),
  badRecvWindow: () => apiError(400, -1131, 'recvWindow must be less than 60000.'),
  outsideRecvWindow: () => apiError(400, -1021, 'Timestamp for this request is outside of the recvWindow.'),
  aheadOfServer: () => apiError(400, -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
  badSignature: () => apiError(400, -1022, 'Signature for this request is not valid.'),
  invalidSymbol: () => apiError(400, -1121, 'Invalid symbol.'),
  invalidLeverage: (leverage: number) => apiError(400, -4028, `Leverage ${leverage} is not valid`),
  maxLeverageRatio: () => apiError(400, -2027, 'Exceeded the maximum allowable position at current leverage.'),
  tooManyRequests: (limit: number, seconds: number) =>
    apiError(
      429,
      -1003,
      `Too many requests; current limit of IP is ${limit} requests per minute. Please use the websocket for live updates to avoid polling the API.`,
      retryAfter(seconds),
    ),
  banned: (untilMs: number, seconds: number) =>
    apiError(
      418,
      -1003,
      `Way too many requests; IP banned until ${untilMs}. Please use the websocket for live updates to avoid bans.`,
      retryAfter(seconds),
    ),
  internal: () => apiError(500, -1001, 'Internal error; unable to process your request. Please try again.'),
  serviceUnavailable: () => text(503, 'Service Unavailable.'),
  unknownStatus: (code: -1006 | -1007) =>
    apiError(503, code, 'Unknown error, please check your request or try again later.'),
  throttled: () =>
    apiError(
      503,
      -1008,
      'Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again.',
    ),
};
