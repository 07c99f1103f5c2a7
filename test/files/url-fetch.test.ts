import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UserFacingError } from '../../src/lib/errors.js';
import { addressRange, fetchUrlSafely, type UrlFetchPolicy } from '../../src/modules/files/url-fetch.js';
import { elfBytes, tinyPng } from './fixtures.js';

type Route = (request: IncomingMessage, response: ServerResponse) => void;
const routes: Record<string, Route> = {
  '/photo': (_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end(tinyPng),
  '/notes.md': (_request, response) => response.writeHead(200, { 'content-type': 'image/png' }).end('# Llamas\n\n- they hum'),
  '/program': (_request, response) => response.writeHead(200).end(elfBytes),
  '/missing': (_request, response) => response.writeHead(404).end('no'),
  '/big': (_request, response) => response.writeHead(200, { 'content-length': 5000 }).end('x'.repeat(5000)),
  '/big-chunked': (_request, response) => {
    response.writeHead(200);
    for (let index = 0; index < 10; index++) response.write('y'.repeat(500));
    response.end();
  },
  '/slow': (_request, response) => {
    response.writeHead(200);
    response.write('start ');
  },
  '/hop': (_request, response) => response.writeHead(302, { location: '/photo' }).end(),
  '/loop': (_request, response) => response.writeHead(302, { location: '/loop' }).end(),
  '/to-metadata': (_request, response) => response.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' }).end(),
  '/to-other-host': (_request, response) => response.writeHead(307, { location: `http://localhost:${port}/photo` }).end(),
  '/no-location': (_request, response) => response.writeHead(302).end(),
};

let server: Server;
let port: number;
let base: string;
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request.url!);
    (routes[request.url!] ?? routes['/missing']!)(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

/** Loopback is refused unless a policy says otherwise: these tests serve from 127.0.0.1, so they say so. */
const testPolicy: UrlFetchPolicy = { allowedHosts: ['127.0.0.1'], allowHttp: true, allowLoopback: true, maxBytes: 1000, timeoutMs: 1000, maxRedirects: 2 };

async function refusal(url: string, policy: Partial<UrlFetchPolicy> = {}) {
  const error = await fetchUrlSafely(url, { ...testPolicy, ...policy }).then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UserFacingError);
  const refused = error as UserFacingError;
  expect(refused.code).toBe('BAD_USER_INPUT');
  return refused;
}

describe('what is fetched', () => {
  test('the type comes from the bytes, not the Content-Type header', async () => {
    const png = await fetchUrlSafely(`${base}/photo`, testPolicy);
    expect(png).toMatchObject({ mimeType: 'image/png', kind: 'image', filename: 'photo' });
    expect(Buffer.from(png.bytes).equals(Buffer.from(tinyPng))).toBe(true);
    expect((await fetchUrlSafely(`${base}/notes.md`, testPolicy)).mimeType).toBe('text/markdown');
  });

  test('a redirect to an allowed place is followed', async () => {
    const fetched = await fetchUrlSafely(`${base}/hop`, testPolicy);
    expect(fetched.finalUrl).toBe(`${base}/photo`);
    expect(fetched.mimeType).toBe('image/png');
  });
});

describe('every refusal says why', () => {
  test('not a URL', async () => {
    expect((await refusal('not a url')).messageKey).toBe('fileUrl.invalid');
  });

  test('http without FILE_URL_ALLOW_HTTP, and schemes other than http(s) always', async () => {
    expect((await refusal(`${base}/photo`, { allowHttp: false })).params).toMatchObject({ scheme: 'http', allowed: 'https' });
    expect((await refusal('file:///etc/passwd')).messageKey).toBe('fileUrl.scheme');
    expect((await refusal('ftp://127.0.0.1/x')).messageKey).toBe('fileUrl.scheme');
  });

  test('user names and passwords in the URL', async () => {
    expect((await refusal(`http://user:secret@127.0.0.1:${port}/photo`)).messageKey).toBe('fileUrl.credentials');
  });

  test('a host off the allow-list, and every host when the list is empty (the default)', async () => {
    expect((await refusal(`http://localhost:${port}/photo`)).extensions).toMatchObject({ reason: 'hostNotAllowed', host: 'localhost' });
    expect((await refusal(`${base}/photo`, { allowedHosts: [] })).messageKey).toBe('fileUrl.hostNotAllowed');
    expect((await refusal('http://evil-example.com/x', { allowedHosts: ['*.example.com'] })).messageKey).toBe('fileUrl.hostNotAllowed');
  });

  test('loopback without the test-only switch, by literal and by name', async () => {
    const before = seen.length;
    expect((await refusal(`${base}/photo`, { allowLoopback: false })).params).toMatchObject({ address: '127.0.0.1', range: 'loopback' });
    const byName = await refusal(`http://localhost:${port}/photo`, { allowLoopback: false, allowedHosts: ['localhost'] });
    expect(byName.params).toMatchObject({ host: 'localhost', range: 'loopback' });
    expect(seen.length).toBe(before);
  });

  test.each([
    ['http://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['http://10.0.0.8/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://172.16.5.4/', 'private'],
    ['http://100.64.0.1/', 'carrierGradeNat'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://[fd00:ec2::254]/', 'uniqueLocal'],
    ['http://[fe80::1]/', 'linkLocal'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:10.0.0.1]/', 'private'],
    ['http://[::ffff:169.254.169.254]/', 'linkLocal'],
    ['http://[64:ff9b::a00:1]/', 'rfc6052'],
  ])('%s is a %s address', async (url, range) => {
    const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
    const refused = await refusal(url, { allowedHosts: [host], allowLoopback: false });
    expect(refused.extensions).toMatchObject({ reason: 'privateAddress', range });
  });

  test('IPv4-mapped loopback is loopback', () => {
    expect(addressRange('::ffff:127.0.0.1')).toBe('loopback');
    expect(addressRange('8.8.8.8')).toBe('unicast');
    expect(addressRange('2606:4700:4700::1111')).toBe('unicast');
  });

  test('a redirect is checked like the first request', async () => {
    expect((await refusal(`${base}/to-metadata`, { allowedHosts: ['127.0.0.1', '169.254.169.254'] })).params).toMatchObject({ range: 'linkLocal' });
    expect((await refusal(`${base}/to-other-host`)).params).toMatchObject({ host: 'localhost' });
    expect((await refusal(`${base}/loop`)).params).toMatchObject({ limit: 2 });
    expect((await refusal(`${base}/no-location`)).params).toMatchObject({ status: 302 });
  });

  test('an error status', async () => {
    expect((await refusal(`${base}/missing`)).params).toMatchObject({ status: 404 });
  });

  test('too large, by the declared length and while streaming', async () => {
    expect((await refusal(`${base}/big`)).params).toMatchObject({ limit: 1000 });
    expect((await refusal(`${base}/big-chunked`)).messageKey).toBe('fileUrl.tooLarge');
  });

  test('too slow', async () => {
    const started = Date.now();
    expect((await refusal(`${base}/slow`, { timeoutMs: 300 })).params).toMatchObject({ ms: 300 });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  test('nothing listening', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect((await refusal(`http://127.0.0.1:${closedPort}/`)).params).toMatchObject({ detail: 'ECONNREFUSED' });
  });

  test('bytes of a type no upload accepts', async () => {
    expect((await refusal(`${base}/program`)).messageKey).toBe('files.unsupportedType');
  });
});
