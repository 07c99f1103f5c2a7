import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, type Gateway } from '../support/harness.js';

// Browsers reach /v1 under the same ALLOWED_ORIGINS policy as /graphql.
const ALLOWED = 'https://chat.example.com';
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ allowedOrigins: [ALLOWED] });
});
afterAll(() => gateway?.close());

const preflight = (path: string, origin: string) =>
  fetch(`${gateway.url}${path}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

test('a preflight from an allowed origin is answered with its origin, methods and headers, as /graphql answers it', async () => {
  const door = await preflight('/v1/chat/completions', ALLOWED);
  expect(door.status).toBe(204);
  expect(door.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  expect(door.headers.get('access-control-allow-methods')).toContain('POST');
  expect(door.headers.get('access-control-allow-headers')).toContain('authorization');
  const graphql = await preflight('/graphql', ALLOWED);
  expect(graphql.headers.get('access-control-allow-origin')).toBe(door.headers.get('access-control-allow-origin'));
  expect(graphql.headers.get('access-control-allow-credentials')).toBe(door.headers.get('access-control-allow-credentials'));
});

test('an allowed origin reads the answer; another origin is not let in, on /v1 as on /graphql', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const models = (origin: string) => fetch(`${gateway.url}/v1/models`, { headers: { origin, authorization: `Bearer ${alice.apiKey}` } });
  const allowed = await models(ALLOWED);
  expect(allowed.status).toBe(200);
  expect(allowed.headers.get('access-control-allow-origin')).toBe(ALLOWED);
  const other = await models('https://evil.example.net');
  expect(other.headers.get('access-control-allow-origin')).toBeNull();
  const otherPreflight = await preflight('/v1/chat/completions', 'https://evil.example.net');
  expect(otherPreflight.headers.get('access-control-allow-origin')).toBeNull();
  // /graphql names an allowed origin instead, which a browser refuses just the same.
  const graphqlOther = await preflight('/graphql', 'https://evil.example.net');
  expect(graphqlOther.headers.get('access-control-allow-origin')).not.toBe('https://evil.example.net');
});
