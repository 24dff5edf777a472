import type { Env } from '../env';
import { ApiError } from '../errors';

/**
 * Where the Worker may send requests on a customer's behalf (`callback_url`, `input_urls`): a guard
 * against server-side request forgery. It looks at the URL as the WHATWG parser left it, which has
 * already turned decimal, hex, octal and short IPv4 forms into dotted quads and IPv6 into compressed
 * lowercase hex (`[::ffff:127.0.0.1]` becomes `[::ffff:7f00:1]`); the IPv4 parser below still reads
 * those forms itself, so the guard does not depend on that normalisation.
 *
 * Host names are not resolved (Workers cannot pin the address a fetch will use), so a public name
 * pointing at a private address is left to the platform, which refuses private destinations.
 *
 * The ranges are written out here, not taken from ipaddr.js. Rewritten on ipaddr.js 2.5 (`range()` plus
 * a table of ours), the guard gave the same answer for the tests' addresses and about 280 more, but
 * ipaddr.js is a UMD file esbuild cannot tree-shake: 12.5 KiB minified, 3.6 KiB gzip, which alone takes
 * the Worker bundle past its 80 KiB gzip aim. And four of our names would stay a table of ours anyway
 * (cloud metadata, documentation, IPv4 benchmarking, and only-2000::/3-is-callable), since ipaddr.js
 * files them under link-local, carrier-grade NAT, reserved and `unicast`. What the comparison taught us
 * is below: 3fff::/20 (documentation) and 2001:2::/48 (benchmarking) were callable and are not now.
 */

export interface OutboundUrlOptions {
  /** Local development: http and https to `localhost` and loopback addresses are allowed. */
  allowLoopback: boolean;
}

/** [first address, prefix length, what the range is]; checked in order, so specific entries come first. */
type Range = readonly [string, number, string];

const IPV4_BLOCKED: readonly Range[] = [
  ['169.254.169.254', 32, 'a cloud metadata address'],
  ['100.100.100.200', 32, 'a cloud metadata address'],
  ['192.0.0.192', 32, 'a cloud metadata address'],
  ['0.0.0.0', 8, 'a reserved address'],
  ['10.0.0.0', 8, 'a private address'],
  ['100.64.0.0', 10, 'a carrier-grade NAT address'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address'],
  ['172.16.0.0', 12, 'a private address'],
  ['192.0.0.0', 24, 'a reserved address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.88.99.0', 24, 'a reserved address'],
  ['192.168.0.0', 16, 'a private address'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved address'],
];

/** Host names that only mean something inside a machine or a private network. */
const BLOCKED_NAME_SUFFIXES = ['localhost', 'local', 'internal', 'localdomain', 'home.arpa', 'lan'];

/** Reads an IPv4 address the way the WHATWG URL parser does (1 to 4 parts, decimal, 0x hex or 0 octal). */
export function parseIPv4(host: string): number | null {
  const parts = host.split('.');
  if (parts.at(-1) === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0[xX][0-9a-fA-F]*$/.test(part)) value = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    else if (/^0[0-7]+$/.test(part)) value = parseInt(part.slice(1), 8);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) value = Number(part);
    else return null;
    numbers.push(value);
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255) || last >= 256 ** (4 - numbers.length)) return null;
  return numbers.reduce((sum, n, i) => sum + n * 256 ** (3 - i), 0) + last;
}

/** The eight 16-bit groups of an IPv6 address (with or without brackets or a dotted IPv4 tail). */
export function parseIPv6(host: string): number[] | null {
  let text = host.replace(/^\[|\]$/g, '').toLowerCase();
  const dotted = text.match(/^(.*:)(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted) {
    const v4 = parseIPv4(dotted[2]!);
    if (v4 === null) return null;
    text = `${dotted[1]}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<string>(missing).fill('0'), ...tail];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => parseInt(g, 16));
}

function ipv4Problem(address: number): string | null {
  for (const [first, prefix, label] of IPV4_BLOCKED) {
    const start = parseIPv4(first)!;
    const size = 2 ** (32 - prefix);
    if (address >= start && address < start + size) return label;
  }
  return null;
}

/**
 * Only global unicast (2000::/3) may be called. That one rule covers ::, ::1, fc00::/7, fe80::/10,
 * ff00::/8, IPv4-mapped ::ffff:0:0/96, NAT64 64:ff9b::/96 and the rest; inside 2000::/3 the ranges
 * that carry or tunnel other addresses are refused too.
 */
function ipv6Problem(groups: number[]): string | null {
  const [g0 = 0, g1 = 0] = groups;
  const isZero = (from: number, to: number) => groups.slice(from, to).every((g) => g === 0);
  if (isZero(0, 8)) return 'the unspecified address';
  if (isZero(0, 7) && groups[7] === 1) return 'a loopback address';
  if (isZero(0, 5) && groups[5] === 0xffff) {
    const embedded = ipv4Problem(groups[6]! * 65536 + groups[7]!);
    return `an IPv4-mapped address${embedded ? ` (${embedded})` : ''}`;
  }
  if (g0 === 0x64 && g1 === 0xff9b) return 'a NAT64 address';
  if ((g0 & 0xfe00) === 0xfc00) return 'a unique-local (private) address';
  if ((g0 & 0xffc0) === 0xfe80) return 'a link-local address';
  if ((g0 & 0xff00) === 0xff00) return 'a multicast address';
  if ((g0 & 0xe000) !== 0x2000) return 'a reserved address';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'a documentation address';
  if (g0 === 0x3fff && g1 < 0x1000) return 'a documentation address';
  if (g0 === 0x2001 && g1 === 0x0002 && groups[2] === 0) return 'a benchmarking address';
  if (g0 === 0x2001 && g1 === 0) return 'a Teredo tunnel address';
  if (g0 === 0x2002) return 'a 6to4 tunnel address';
  return null;
}

function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  if (hostname.startsWith('[')) {
    const groups = parseIPv6(hostname);
    return groups !== null && groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1;
  }
  const v4 = parseIPv4(hostname);
  return v4 !== null && v4 >>> 24 === 127;
}

/** Why the Worker must not call this URL, or null if it may. Pure, so it can be table-tested. */
export function outboundUrlProblem(raw: string, options: OutboundUrlOptions): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not contain credentials';
  const { hostname, protocol } = url;
  const web = protocol === 'https:' || protocol === 'http:';
  if (options.allowLoopback && web && isLoopbackHost(hostname)) return null;
  if (protocol !== 'https:') return 'must be an https URL';
  if (hostname.startsWith('[')) {
    const groups = parseIPv6(hostname);
    if (!groups) return 'must have a valid host';
    const problem = ipv6Problem(groups);
    return problem ? `must not point at ${problem} (${hostname})` : null;
  }
  const v4 = parseIPv4(hostname);
  if (v4 !== null) {
    const problem = ipv4Problem(v4);
    return problem ? `must not point at ${problem} (${hostname})` : null;
  }
  if (hostname.endsWith('.')) return 'must not end its host name with a dot';
  if (BLOCKED_NAME_SUFFIXES.some((suffix) => hostname === suffix || hostname.endsWith(`.${suffix}`))) {
    return `must point at a public host, not ${hostname}`;
  }
  if (!hostname.includes('.')) return 'must use a fully qualified public host name';
  return null;
}

/** The guard's options in force: development may call loopback addresses (the simulator, local receivers). */
export function outboundUrlOptions(env: Env): OutboundUrlOptions {
  return { allowLoopback: env.ENVIRONMENT === 'development' };
}

/**
 * Checks every URL the Worker will later fetch or call for a request (`callback_url`,
 * `input_urls`), naming each offending field; the zod schemas have already checked their shape.
 */
export function assertOutboundUrls(request: Record<string, unknown>, env: Env): void {
  const options = outboundUrlOptions(env);
  const fields: [string, unknown][] = [['callback_url', request.callback_url]];
  if (Array.isArray(request.input_urls)) {
    request.input_urls.forEach((url, i) => fields.push([`input_urls.${i}`, url]));
  }
  const details = fields.flatMap(([path, value]) => {
    const problem = typeof value === 'string' ? outboundUrlProblem(value, options) : null;
    return problem ? [{ path, message: problem }] : [];
  });
  const first = details[0];
  if (first) {
    throw new ApiError('invalid_request', `${first.path}: ${first.message}`, { param: first.path, details });
  }
}
