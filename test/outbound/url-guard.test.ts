import { describe, expect, it } from 'vitest';
import { outboundUrlProblem, parseIPv4, parseIPv6 } from '../../src/outbound/url-guard';
import { balance, createTask, customer } from '../helpers';

const production = { allowLoopback: false };
const development = { allowLoopback: true };

/**
 * Hostile URLs with a word the rejection must contain. Many spellings only reach the guard after
 * workerd's URL parser normalised them, which is why this runs inside the Workers runtime.
 */
const HOSTILE: [url: string, reason: string][] = [
  ['http://example.com/hook', 'https'],
  ['ftp://example.com/file', 'https'],
  ['file:///etc/passwd', 'https'],
  ['javascript:alert(1)', 'https'],
  ['data:text/plain,hello', 'https'],
  ['https://user:secret@example.com/hook', 'credentials'],
  ['https://127.0.0.1@example.com/hook', 'credentials'],
  ['https://127.0.0.1/', 'loopback'],
  ['https://127.0.0.1:8080/admin', 'loopback'],
  ['https://127.1/', 'loopback'],
  ['https://2130706433/', 'loopback'],
  ['https://0x7f000001/', 'loopback'],
  ['https://0177.0.0.1/', 'loopback'],
  ['https://0x7f.0.0.1/', 'loopback'],
  ['https://0x7f.1/', 'loopback'],
  ['https://127.000.000.001/', 'loopback'],
  ['https://%31%32%37.0.0.1/', 'loopback'],
  ['https://\uff11\uff12\uff17.\uff10.\uff10.\uff11/', 'loopback'],
  ['https://127.0.0.1./', 'loopback'],
  ['https://0/', 'reserved'],
  ['https://0.0.0.0/', 'reserved'],
  ['https://10.0.0.1/', 'private'],
  ['https://172.16.5.4/', 'private'],
  ['https://172.31.255.255/', 'private'],
  ['https://192.168.1.1/', 'private'],
  ['https://100.64.0.1/', 'carrier-grade NAT'],
  ['https://100.127.255.254/', 'carrier-grade NAT'],
  ['https://169.254.169.254/latest/meta-data/', 'metadata'],
  ['https://2852039166/', 'metadata'],
  ['https://0xa9fea9fe/', 'metadata'],
  ['https://0251.0376.0251.0376/', 'metadata'],
  ['https://100.100.100.200/', 'metadata'],
  ['https://192.0.0.192/', 'metadata'],
  ['https://169.254.1.1/', 'link-local'],
  ['https://224.0.0.1/', 'multicast'],
  ['https://239.255.255.250/', 'multicast'],
  ['https://240.0.0.1/', 'reserved'],
  ['https://255.255.255.255/', 'reserved'],
  ['https://198.18.0.1/', 'benchmarking'],
  ['https://[::1]/', 'loopback'],
  ['https://[0:0:0:0:0:0:0:1]/', 'loopback'],
  ['https://[::]/', 'unspecified'],
  ['https://[::ffff:127.0.0.1]/', 'IPv4-mapped'],
  ['https://[::ffff:7f00:1]/', 'IPv4-mapped'],
  ['https://[0:0:0:0:0:ffff:7f00:0001]/', 'IPv4-mapped'],
  ['https://[::ffff:169.254.169.254]/', 'metadata'],
  ['https://[::ffff:10.0.0.1]/', 'private'],
  ['https://[::127.0.0.1]/', 'reserved'],
  ['https://[64:ff9b::7f00:1]/', 'NAT64'],
  ['https://[64:ff9b::169.254.169.254]/', 'NAT64'],
  ['https://[fc00::1]/', 'unique-local'],
  ['https://[fd12:3456:789a::1]/', 'unique-local'],
  ['https://[fe80::1]/', 'link-local'],
  ['https://[fe80::1%25eth0]/', 'absolute URL'],
  ['https://[ff02::1]/', 'multicast'],
  ['https://[2001:db8::1]/', 'documentation'],
  ['https://localhost/', 'localhost'],
  ['https://LOCALHOST:3000/', 'localhost'],
  ['https://%6c%6f%63%61%6c%68%6f%73%74/', 'localhost'],
  ['https://\u24db\u24de\u24d2\u24d0\u24db\u24d7\u24de\u24e2\u24e3/', 'localhost'],
  ['https://api.localhost/', 'localhost'],
  ['https://localhost./', 'dot'],
  ['https://example.com./hook', 'dot'],
  ['https://metadata.google.internal/computeMetadata/v1/', 'internal'],
  ['https://printer.local/', 'printer.local'],
  ['https://router.home.arpa/', 'home.arpa'],
  ['https://intranet/', 'fully qualified'],
  ['https://metadata/', 'fully qualified'],
  ['not a url', 'absolute URL'],
];

const PUBLIC = [
  'https://example.com/webhooks/images',
  'https://hooks.example.co.uk:8443/path?x=1#frag',
  'https://images.example.com/a.png',
  'https://xn--bcher-kva.example/hook',
  'https://bücher.example/hook',
  'https://local.example.com/',
  'https://internal.example.com/',
  'https://localhost-tools.example.org/',
  'https://8.8.8.8/',
  'https://100.63.255.255/',
  'https://100.128.0.1/',
  'https://172.32.0.1/',
  'https://[2606:4700:4700::1111]/',
];

describe('outboundUrlProblem (production)', () => {
  it.each(HOSTILE)('rejects %s (%s)', (url, reason) => {
    expect(outboundUrlProblem(url, production)).toContain(reason);
  });

  it.each(PUBLIC)('accepts %s', (url) => {
    expect(outboundUrlProblem(url, production)).toBeNull();
  });
});

describe('outboundUrlProblem (development)', () => {
  it.each([
    'http://127.0.0.1:8788/__sim/webhooks/a',
    'http://localhost:3000/hook',
    'https://localhost/hook',
    'http://127.1/',
    'http://[::1]:8080/',
  ])('allows loopback %s', (url) => {
    expect(outboundUrlProblem(url, development)).toBeNull();
  });

  it.each([
    ['http://example.com/hook', 'https'],
    ['http://10.0.0.1/', 'https'],
    ['https://10.0.0.1/', 'private'],
    ['https://169.254.169.254/', 'metadata'],
    ['https://0.0.0.0/', 'reserved'],
    ['http://user:pw@127.0.0.1/', 'credentials'],
    ['ftp://127.0.0.1/', 'https'],
  ])('still rejects %s (%s)', (url, reason) => {
    expect(outboundUrlProblem(url, development)).toContain(reason);
  });
});

describe('the address ranges, in exact words', () => {
  it.each([
    ['https://169.254.169.254/', 'must not point at a cloud metadata address (169.254.169.254)'],
    ['https://100.100.100.200/', 'must not point at a cloud metadata address (100.100.100.200)'],
    ['https://[::ffff:169.254.169.254]/', 'must not point at an IPv4-mapped address (a cloud metadata address) ([::ffff:a9fe:a9fe])'],
    ['https://[::ffff:8.8.8.8]/', 'must not point at an IPv4-mapped address ([::ffff:808:808])'],
    ['https://192.0.2.1/', 'must not point at a documentation address (192.0.2.1)'],
    ['https://198.51.100.7/', 'must not point at a documentation address (198.51.100.7)'],
    ['https://203.0.113.9/', 'must not point at a documentation address (203.0.113.9)'],
    ['https://[2001:db8::1]/', 'must not point at a documentation address ([2001:db8::1])'],
    ['https://[3fff::1]/', 'must not point at a documentation address ([3fff::1])'],
    ['https://[3fff:fff:ffff::1]/', 'must not point at a documentation address ([3fff:fff:ffff::1])'],
    ['https://198.19.255.255/', 'must not point at a benchmarking address (198.19.255.255)'],
    ['https://[2001:2::1]/', 'must not point at a benchmarking address ([2001:2::1])'],
    ['https://192.88.99.1/', 'must not point at a reserved address (192.88.99.1)'],
    ['https://[2001::1]/', 'must not point at a Teredo tunnel address ([2001::1])'],
    ['https://[2002::1]/', 'must not point at a 6to4 tunnel address ([2002::1])'],
    ['https://[64:ff9b:1::1]/', 'must not point at a NAT64 address ([64:ff9b:1::1])'],
    ['https://[fec0::1]/', 'must not point at a reserved address ([fec0::1])'],
    ['https://[100::1]/', 'must not point at a reserved address ([100::1])'],
    ['https://[4000::1]/', 'must not point at a reserved address ([4000::1])'],
  ])('refuses %s: %s', (url, message) => {
    expect(outboundUrlProblem(url, production)).toBe(message);
  });

  it.each(['https://[3fff:1000::1]/', 'https://[2001:2:1::1]/', 'https://[2001:3::1]/'])('lets %s through, next to a refused range', (url) => {
    expect(outboundUrlProblem(url, production)).toBeNull();
  });
});

describe('the address parsers', () => {
  it.each([
    ['127.0.0.1', 0x7f000001],
    ['0x7f.1', 0x7f000001],
    ['0177.0.0.01', 0x7f000001],
    ['2130706433', 0x7f000001],
    ['10.1', 0x0a000001],
    ['1.2.3.4.', 0x01020304],
    ['256.0.0.1', null],
    ['1.2.3.4.5', null],
    ['example.com', null],
    ['09.1.1.1', null],
  ])('reads IPv4 %s as %s', (host, value) => {
    expect(parseIPv4(host)).toBe(value);
  });

  it.each([
    ['[::1]', [0, 0, 0, 0, 0, 0, 0, 1]],
    ['::ffff:127.0.0.1', [0, 0, 0, 0, 0, 0xffff, 0x7f00, 1]],
    ['2001:db8::8:800:200c:417a', [0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]],
    ['1::2::3', null],
    ['1:2:3:4:5:6:7:8:9', null],
    ['12345::', null],
  ])('reads IPv6 %s', (host, groups) => {
    expect(parseIPv6(host)).toEqual(groups);
  });
});

describe('POST /api/v1/images/generations with hostile URLs', () => {
  it('answers 400 naming callback_url and reserves nothing', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, {
      model: 'flux-2',
      prompt: 'A lighthouse at dusk',
      callback_url: 'https://169.254.169.254/latest/meta-data/',
    });
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { code: string; param: string; message: string } }>();
    expect(body.error).toMatchObject({ code: 'invalid_request', param: 'callback_url' });
    expect(body.error.message).toContain('metadata');
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });

  it('names the offending input_urls entry by index', async () => {
    const { auth } = await customer(undefined, 100);
    const res = await createTask(auth, {
      model: 'flux-2',
      prompt: 'Blend these',
      input_urls: ['https://images.example.com/a.png', 'https://images.example.com/b.png', 'https://[::ffff:7f00:1]/c.png'],
    });
    expect(res.status).toBe(400);
    const body = await res.json<{ error: { param: string; details: { path: string }[] } }>();
    expect(body.error.param).toBe('input_urls.2');
    expect(body.error.details.map((d) => d.path)).toEqual(['input_urls.2']);
  });
});
