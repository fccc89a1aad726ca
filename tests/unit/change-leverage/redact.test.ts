import { REDACTED, redactJson, redactText } from '../../../functions/change-leverage/redact.ts';

const pem = (label: string) => `-----BEGIN ${label}-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v\n/aKNAgg=\n-----END ${label}-----`;

describe('redactText', () => {
  test.each([
    ['a PKCS#8 private key', `key: ${pem('PRIVATE KEY')} (end)`, 'key: [REDACTED] (end)'],
    ['an RSA private key', pem('RSA PRIVATE KEY'), REDACTED],
    ['an encrypted private key', pem('ENCRYPTED PRIVATE KEY'), REDACTED],
    ['an OpenSSH key', pem('OPENSSH PRIVATE KEY'), REDACTED],
    ['two keys, text between kept', `${pem('PRIVATE KEY')} and ${pem('EC PRIVATE KEY')}`, '[REDACTED] and [REDACTED]'],
    ['an unterminated key, cut to the end', 'pem: -----BEGIN PRIVATE KEY-----\nMC4CAQAw', 'pem: [REDACTED]'],
    ['a hex signature in a query', 'POST /papi/v1/um/leverage?symbol=BTCUSDT&timestamp=1&signature=c8db5682&x=1', 'POST /papi/v1/um/leverage?symbol=BTCUSDT&timestamp=1&signature=[REDACTED]&x=1'],
    ['a percent-encoded base64 signature', 'url "https://h/p?a=1&signature=oGNRF%2Bgx%3D%3D" sent', 'url "https://h/p?a=1&signature=[REDACTED]" sent'],
    ['any case', 'Signature=abc SIGNATURE=def', 'Signature=[REDACTED] SIGNATURE=[REDACTED]'],
    ['nothing secret', 'leverage 5 applied to BTCUSDT (signature check ok)', 'leverage 5 applied to BTCUSDT (signature check ok)'],
    ['a certificate (not a key)', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----', '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----'],
  ])('%s', (_name, text, expected) => {
    expect(redactText(text)).toBe(expected);
  });
});

describe('redactJson as a JSON.stringify replacer', () => {
  test.each(['apiSecret', 'privateKey', 'SecretString', 'signature', 'X-MBX-APIKEY', 'x-mbx-apikey', 'apiKey', 'APIKEY', 'authorization', 'Authorization'])(
    'masks the value of %p wherever it is, whatever its type',
    (key) => {
      const logged = { [key]: 'v1', nested: { deeper: [{ [key]: { any: 'shape' } }] }, keep: 'v2' };
      expect(JSON.parse(JSON.stringify(logged, redactJson))).toStrictEqual({
        [key]: REDACTED,
        nested: { deeper: [{ [key]: REDACTED }] },
        keep: 'v2',
      });
    },
  );

  test('redacts free text in every string, leaves other values alone', () => {
    const logged = {
      detail: `could not sign: ${pem('PRIVATE KEY')}`,
      urls: ['/p?signature=abc', '/q'],
      status: 429,
      banned: false,
      weight: null,
    };
    expect(JSON.parse(JSON.stringify(logged, redactJson))).toStrictEqual({
      detail: 'could not sign: [REDACTED]',
      urls: ['/p?signature=[REDACTED]', '/q'],
      status: 429,
      banned: false,
      weight: null,
    });
  });

  test('a bare string is redacted too', () => {
    expect(JSON.stringify('signature=abc', redactJson)).toBe('"signature=[REDACTED]"');
  });
});

describe('redactText: AWS identities in log text', () => {
  test.each([
    ['an ARN, any partition', 'role arn:aws-cn:iam::123456789012:role/x denied', 'role <arn> denied'],
    ['an ARN inside parentheses', '(arn:aws:sns:ap-northeast-1:123456789012:results)', '(<arn>)'],
    ['a lone account id', 'account 123456789012 said no', 'account <account> said no'],
  ])('%s', (_name, text, redacted) => {
    expect(redactText(text)).toBe(redacted);
  });

  test('leaves other numbers alone: timestamps (13 digits), Binance codes, request ids', () => {
    const text = 'at 1764064800000 Binance -1001, request e4b46cbf-b738-4f4a-8880-a18cdf61200e, 5 attempts';
    expect(redactText(text)).toBe(text);
  });
});
