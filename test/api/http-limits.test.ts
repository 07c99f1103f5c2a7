import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';

const MAX_CONNECTIONS = 5;
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({
    http: { headersTimeoutMs: 300, requestTimeoutMs: 1_000, keepAliveTimeoutMs: 1_000, maxConnectionsPerIp: MAX_CONNECTIONS },
  });
});
afterAll(() => gateway?.close());

/** Posts a JSON body in chunks (Transfer-Encoding: chunked, no Content-Length), stopping early once answered. */
function postChunked(totalBytes: number) {
  const { hostname, port } = new URL(gateway.url);
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const request = httpRequest({
      host: hostname,
      port,
      path: '/graphql',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-device-id': 'chunked-device' },
    });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) }));
      response.on('error', reject);
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    const head = '{"query":"{ health { database } }","variables":{"padding":"';
    const tail = '"}}';
    const chunk = 'x'.repeat(64 * 1024);
    const write = async () => {
      request.write(head);
      for (let sent = 0; sent < totalBytes && !answered && !request.destroyed; sent += chunk.length) {
        await new Promise<void>((done) => request.write(chunk, () => done()));
      }
      if (!answered && !request.destroyed) request.end(tail);
    };
    write().catch(reject);
  });
}

function openSocket(): Promise<Socket> {
  const { hostname, port } = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves with what the server sent before closing the socket. */
function closedBy(socket: Socket): Promise<string> {
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => (received += chunk));
  socket.on('error', () => {});
  return new Promise((resolve) => socket.once('close', () => resolve(received)));
}

describe('request bodies', () => {
  test('a chunked body past the limit is refused as it arrives, like a declared one', async () => {
    const big = await postChunked(3 * 1024 * 1024);
    expect(big.status).toBe(413);
    expect(codeOf(big.body)).toBe('PAYLOAD_TOO_LARGE');
  });

  test('a chunked body within the limit still runs', async () => {
    const small = await postChunked(128 * 1024);
    expect(small.status).toBe(200);
    expect(small.body.data.health.database).toBeTruthy();
  });
});

describe('CSRF refusal', () => {
  test('a GET carrying a cookie without a preflight header is FORBIDDEN, with a localized message', async () => {
    const response = await fetch(`${gateway.url}/graphql?query=${encodeURIComponent('{ health { database } }')}`, {
      headers: { 'x-device-id': 'csrf-device', 'accept-language': 'fr', cookie: 'session=from-another-site' },
    });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { errors: Array<{ message: string; extensions?: Record<string, unknown> }> };
    expect(codeOf(body)).toBe('FORBIDDEN');
    expect(body.errors[0]!.message).toContain('graphql-require-preflight');
    expect(body.errors[0]!.message).toContain('navigateur');
  });
});

describe('long-lived connections', () => {
  test('a WebSocket outlives the request timeout: it only bounds receiving a request', async () => {
    const socket = new WebSocket(`${gateway.url.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const messages: string[] = [];
    socket.on('message', (data) => messages.push(String(data)));
    await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-device-id': 'long-lived-device' } }));
    await new Promise((resolve) => socket.once('message', resolve));
    expect(messages[0]).toContain('connection_ack');
    // Twice the request timeout (1 s here) with nothing sent either way.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(socket.readyState).toBe(WebSocket.OPEN);
    const pong = new Promise((resolve) => socket.once('message', resolve));
    socket.send(JSON.stringify({ type: 'ping' }));
    expect(String(await pong)).toContain('pong');
    socket.close();
    await new Promise((resolve) => socket.once('close', resolve));
  });
});

// Last: the sockets these hold count against the address until the server sees them close.
describe('connections', () => {
  test('a socket that never sends a byte is closed after the headers timeout', async () => {
    const socket = await openSocket();
    const received = await closedBy(socket);
    // Node answers 408 on the way out (or just closes); either way the socket is gone.
    expect(received === '' || received.startsWith('HTTP/1.1 408')).toBe(true);
  });

  test('one address may hold only so many connections; the next is refused with 429', async () => {
    const held = await Promise.all(Array.from({ length: MAX_CONNECTIONS }, openSocket));
    try {
      const extra = await openSocket();
      expect(await closedBy(extra)).toMatch(/^HTTP\/1\.1 429/);
    } finally {
      for (const socket of held) socket.destroy();
    }
  });
});
