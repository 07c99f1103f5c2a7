import { lookup as resolveAll } from 'node:dns/promises';
import { truncated } from '../../lib/text.js';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { badInput, type MessageParams } from '../../lib/errors.js';
import { detectType, type FileKind } from './file-types.js';

/**
 * Fetching a URL a caller names is a door into the server's own network
 * (SSRF), so every hop is checked: the scheme, the host against an allow-list,
 * every address the name resolves to against the ranges no public server
 * uses, and then the connection goes to that checked address, so a second DNS
 * answer cannot swap it.
 */
export interface UrlFetchPolicy {
  /** Host names (or IP literals) that may be fetched; "*.example.com" also allows its subdomains. Empty: nothing is fetched. */
  allowedHosts: string[];
  /** Plain http as well as https. */
  allowHttp: boolean;
  /** Loopback addresses as well: only for tests that serve files from 127.0.0.1, never from the environment. */
  allowLoopback?: boolean;
  maxBytes: number;
  /** For the whole fetch, redirects included. */
  timeoutMs: number;
  maxRedirects: number;
}

export interface FetchedUrl {
  bytes: Uint8Array;
  /** The last path segment of the final URL, or its host. */
  filename: string;
  /** The URL the bytes came from, after redirects. */
  finalUrl: string;
  /** Judged by the bytes, never by the server's Content-Type. */
  mimeType: string;
  kind: FileKind;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const refuse = (reason: string, url: string, params: MessageParams = {}) => badInput(`fileUrl.${reason}`, { url, ...params }, { reason, url, ...params });

function parseUrl(text: string): URL {
  try {
    return new URL(text);
  } catch {
    throw refuse('invalid', text.slice(0, 200));
  }
}

function hostAllowed(hostname: string, allowedHosts: string[]): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, '');
  return allowedHosts.some((entry) => {
    const allowed = entry.trim().toLowerCase();
    if (allowed.startsWith('*.')) return host.endsWith(allowed.slice(1));
    return allowed !== '' && host === allowed;
  });
}

/** The range an address belongs to, IPv4-mapped IPv6 judged as the IPv4 address it carries. */
export function addressRange(address: string): string {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  return parsed.range();
}

/** Only ordinary public unicast is fetched: loopback, private, link-local (cloud metadata), CGNAT, unique-local, NAT64, 6to4, ... are not. */
function isFetchable(address: string, policy: UrlFetchPolicy): { ok: boolean; range: string } {
  const range = addressRange(address);
  return { ok: range === 'unicast' || (range === 'loopback' && policy.allowLoopback === true), range };
}

interface CheckedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/** Every rule for one hop; the address returned is the one to connect to. */
async function checkTarget(url: URL, policy: UrlFetchPolicy): Promise<CheckedTarget> {
  const href = url.href;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowHttp))
    throw refuse('scheme', href, { scheme: url.protocol.replace(/:$/, ''), allowed: policy.allowHttp ? 'https, http' : 'https' });
  if (url.username || url.password) throw refuse('credentials', href);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  if (!hostAllowed(hostname, policy.allowedHosts)) throw refuse('hostNotAllowed', href, { host: hostname });
  const addresses = ipaddr.isValid(hostname)
    ? [{ address: hostname, family: ipaddr.parse(hostname).kind() === 'ipv6' ? 6 : 4 }]
    : await resolveAll(hostname, { all: true, verbatim: true }).catch(() => {
        throw refuse('unresolvable', href, { host: hostname });
      });
  if (addresses.length === 0) throw refuse('unresolvable', href, { host: hostname });
  // One private answer among public ones refuses the host: the connection must not depend on which answer wins.
  for (const { address } of addresses) {
    const verdict = isFetchable(address, policy);
    if (!verdict.ok) throw refuse('privateAddress', href, { host: hostname, address, range: verdict.range });
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** A DNS lookup that answers only the checked address. */
function pinnedLookup(target: CheckedTarget): LookupFunction {
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
}

function request(target: CheckedTarget, signal: AbortSignal): Promise<IncomingMessage> {
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const outgoing = client.request(target.url, {
      method: 'GET',
      lookup: pinnedLookup(target),
      signal,
      headers: { accept: '*/*', 'user-agent': 'ai-chat-gateway file fetch' },
    });
    outgoing.once('response', resolve);
    outgoing.once('error', reject);
    outgoing.end();
  });
}

async function readBounded(response: IncomingMessage, href: string, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw refuse('tooLarge', href, { limit: maxBytes });
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      response.destroy();
      throw refuse('tooLarge', href, { limit: maxBytes });
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

function filenameOf(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop();
  try {
    return truncated(last ? decodeURIComponent(last) : url.hostname, 255);
  } catch {
    return url.hostname;
  }
}

/** Follows redirects by hand, checking each new location as if it were the first. */
async function follow(start: URL, policy: UrlFetchPolicy, signal: AbortSignal): Promise<{ response: IncomingMessage; url: URL }> {
  let url = start;
  for (let hop = 0; ; hop++) {
    const target = await checkTarget(url, policy);
    const response = await request(target, signal);
    const status = response.statusCode ?? 0;
    if (REDIRECTS.has(status)) {
      response.resume();
      const location = response.headers.location;
      if (!location) throw refuse('status', url.href, { status });
      if (hop >= policy.maxRedirects) throw refuse('tooManyRedirects', url.href, { limit: policy.maxRedirects });
      url = parseUrl(new URL(location, url).href);
      continue;
    }
    if (status < 200 || status > 299) {
      response.resume();
      throw refuse('status', url.href, { status });
    }
    return { response, url };
  }
}

const isRefusal = (error: unknown) => error instanceof Error && error.name === 'UserFacingError';

/** Fetches one URL under the policy; every refusal is a BAD_USER_INPUT that says why (extensions.reason). */
export async function fetchUrlSafely(text: string, policy: UrlFetchPolicy): Promise<FetchedUrl> {
  const start = parseUrl(text);
  const signal = AbortSignal.timeout(policy.timeoutMs);
  try {
    const { response, url } = await follow(start, policy, signal);
    const bytes = await readBounded(response, url.href, policy.maxBytes);
    const filename = filenameOf(url);
    const { mimeType, kind } = await detectType(bytes, filename);
    return { bytes, filename, finalUrl: url.href, mimeType, kind };
  } catch (error) {
    if (isRefusal(error)) throw error;
    if (signal.aborted) throw refuse('timeout', start.href, { ms: policy.timeoutMs });
    throw refuse('unreachable', start.href, { detail: (error as NodeJS.ErrnoException).code ?? 'connection failed' });
  }
}
