import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createClient } from 'graphql-ws';
import { codeOf, eventually, startGateway, type Gateway } from '../support/harness.js';
import { CHAT_STREAM } from '../support/operations.js';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({
    allowedOrigins: ['https://chat.example.com'],
    webSocket: { maxMessageBytes: 64 * 1024, maxOperationsPerSocket: 3, maxConnectionsPerIp: 150, initTimeoutMs: 500 },
  });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

async function post(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-device-id': 'limits-device', ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : { errors: [{ message: text }] } };
}
const query = (text: string) => post(JSON.stringify({ query: text }));

describe('GraphQL documents', () => {
  test('depth beyond 10 is refused with a code, within it is fine', async () => {
    // viewer { user { teams { owner { teams { owner ... } } } } } nests as deep as we like.
    const nest = (levels: number) => `{ viewer { user { ${'teams { owner { '.repeat(levels)} id ${'} } '.repeat(levels)} } } }`;
    expect((await query(nest(3))).body.errors).toBeUndefined();
    const deep = await query(nest(5));
    expect(deep.status).toBe(400);
    expect(codeOf(deep.body)).toBe('QUERY_TOO_COMPLEX');
    expect(deep.body.errors[0].message).toContain('depth limit of 10');
  });

  test('more than 15 aliases are refused', async () => {
    const aliases = (count: number) => `{ ${Array.from({ length: count }, (_, index) => `a${index}: health { database }`).join(' ')} }`;
    expect((await query(aliases(15))).body.errors).toBeUndefined();
    const many = await query(aliases(16));
    expect(many.status).toBe(400);
    expect(codeOf(many.body)).toBe('QUERY_TOO_COMPLEX');
    expect(many.body.errors[0].message).toContain('Aliases limit of 15');
  });

  test('more than 50 directives are refused', async () => {
    const directives = Array.from({ length: 51 }, () => '@include(if: true)').join(' ');
    const result = await query(`{ health ${directives} { database } }`);
    expect(codeOf(result.body)).toBe('QUERY_TOO_COMPLEX');
  });

  test('more than 2,000 tokens, or 15,000 characters, are refused before parsing', async () => {
    const tokens = await query(`{ ${'health { database } '.repeat(600)} }`);
    expect(tokens.status).toBe(400);
    expect(tokens.body.errors[0].message).toContain('Token limit of 2000');
    const long = await query(`{ health { database } } # ${'x'.repeat(15_100)}`);
    expect(long.status).toBe(400);
    expect(codeOf(long.body)).toBe('QUERY_TOO_COMPLEX');
  });

  test('an expensive query exceeds the cost limit', async () => {
    const fields =
      'id title createdAt updatedAt privacy messageCount lastMessage { id content role status createdAt model { id displayName vendor contextWindow } }';
    const expensive = `{ ${Array.from({ length: 14 }, (_, index) => `c${index}: conversations(first: 50) { edges { node { ${fields} messages(first: 50) { edges { node { id content model { id displayName vendor } } } } } } }`).join(' ')} }`;
    const result = await query(expensive);
    expect(codeOf(result.body)).toBe('QUERY_TOO_COMPLEX');
    expect(result.body.errors[0].message).toContain('Query Cost limit of 5000');
  });

  test('a body over 1 MB is 413; batching is off', async () => {
    const big = await post(JSON.stringify({ query: '{ health { database } }', variables: { padding: 'x'.repeat(1_100_000) } }));
    expect(big.status).toBe(413);
    expect(codeOf(big.body)).toBe('PAYLOAD_TOO_LARGE');
    const batch = await post(JSON.stringify([{ query: '{ health { database } }' }, { query: '{ health { database } }' }]));
    expect(batch.status).toBe(400);
  });

  test('only allowed origins get CORS headers', async () => {
    const allowed = await fetch(`${gateway.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://chat.example.com', 'access-control-request-method': 'POST' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://chat.example.com');
    const other = await fetch(`${gateway.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).not.toBe('https://evil.example');
  });
});

describe('production mode', () => {
  test('introspection, field suggestions and GraphiQL are off', async () => {
    const production = await startGateway({
      queryLimits: { maxDepth: 10, maxAliases: 15, maxDirectives: 50, maxTokens: 2_000, maxQueryLength: 15_000, maxCost: 5_000, hideSchema: true },
      graphiql: false,
    });
    try {
      const call = (text: string) =>
        fetch(`${production.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: text }) }).then(
          (response) => response.json() as Promise<any>,
        );
      expect((await call('{ __schema { types { name } } }')).errors[0].message).toMatch(/introspection/i);
      const typo = await call('{ helth { database } }');
      expect(typo.errors[0].message).not.toContain('Did you mean');
      const page = await fetch(`${production.url}/graphql`, { headers: { accept: 'text/html' } });
      expect(await page.text()).not.toContain('GraphiQL');
    } finally {
      await production.close();
    }
    // Development shows suggestions, which help while exploring.
    expect((await query('{ helth { database } }')).body.errors[0].message).toContain('Did you mean');
  });
});

describe('WebSockets', () => {
  const wsUrl = () => `${gateway.url.replace('http', 'ws')}/graphql`;
  const closeOf = (socket: WebSocket) => new Promise<{ code: number }>((resolve) => socket.once('close', (code) => resolve({ code })));

  test('a socket that never sends connection_init is closed (4408)', async () => {
    const socket = new WebSocket(wsUrl(), 'graphql-transport-ws');
    expect((await closeOf(socket)).code).toBe(4408);
  });

  test('a message over the size limit closes the socket (1009)', async () => {
    const socket = new WebSocket(wsUrl(), 'graphql-transport-ws');
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-device-id': 'big', padding: 'x'.repeat(70 * 1024) } }));
    expect((await closeOf(socket)).code).toBe(1009);
  });

  test('an origin outside the allow-list cannot open a socket', async () => {
    const socket = new WebSocket(wsUrl(), 'graphql-transport-ws', { origin: 'https://evil.example' });
    const status = await new Promise<number>((resolve) => socket.once('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0)));
    expect(status).toBe(403);
    const allowed = new WebSocket(wsUrl(), 'graphql-transport-ws', { origin: 'https://chat.example.com' });
    await new Promise((resolve) => allowed.once('open', resolve));
    allowed.close();
  });

  test('a socket runs at most the configured number of operations at once', async () => {
    gateway.upstream.behave({ tokens: 200, delayMs: 20 });
    const client = createClient({ url: wsUrl(), webSocketImpl: WebSocket, connectionParams: { 'x-device-id': 'ops-limit' }, retryAttempts: 0 });
    const results = Array.from({ length: 4 }, (_, index) => {
      const errors: any[] = [];
      let events = 0;
      const done = new Promise<void>((resolve) => {
        client.subscribe(
          { query: CHAT_STREAM, variables: { input: { content: `stream ${index}` } } },
          { next: () => (events += 1), error: (error) => (errors.push(error), resolve()), complete: resolve },
        );
      });
      return { errors, done, events: () => events };
    });
    const refused = await eventually(() => results.find((result) => result.errors.length > 0));
    expect(JSON.stringify(refused.errors)).toContain('At most 3 operations');
    await client.dispose();
  });

  test('100 abrupt disconnects free their followers and sockets; the replies still finish and are stored', async () => {
    gateway.upstream.behave({ tokens: 30, delayMs: 15 });
    const { chat } = gateway.app.services;
    const sockets = await Promise.all(
      Array.from({ length: 100 }, async (_, index) => {
        const socket = new WebSocket(wsUrl(), 'graphql-transport-ws');
        const firstEvent = new Promise<string>((resolve) => socket.on('message', (data) => String(data).includes('"next"') && resolve(String(data))));
        await new Promise((resolve) => socket.once('open', resolve));
        socket.send(JSON.stringify({ type: 'connection_init', payload: { 'x-device-id': `abrupt-${index}` } }));
        await new Promise((resolve) => socket.once('message', resolve));
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: CHAT_STREAM, variables: { input: { content: `abandon ${index}` } } } }));
        const first = await firstEvent;
        expect(first).toContain('TokenDelta');
        return socket;
      }),
    );
    expect(chat.followerCount()).toBeGreaterThan(0);
    for (const socket of sockets) socket.terminate();
    await eventually(() => chat.followerCount() === 0, 10_000);
    await eventually(() => gateway.upstream.openStreams() === 0, 15_000);
    // The last bytes of a stream reach the gateway a moment before its reply is stored.
    await eventually(() => chat.runningCount() === 0, 5_000);
    const stored = await gateway.app.services.db.prisma.message.groupBy({
      by: ['status'],
      where: { role: 'ASSISTANT', conversation: { owner: { deviceId: { startsWith: 'abrupt-' } } } },
      _count: { _all: true },
    });
    expect(stored).toEqual([{ status: 'COMPLETE', _count: { _all: 100 } }]);
  }, 60_000);
});
