import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'graphql-ws';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { JwtConfig } from '../../src/lib/config.js';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CONVERSATIONS, SEND_MESSAGE } from '../support/operations.js';

const VIEWER = /* GraphQL */ `
  query Viewer { viewer { isGuest tier credits user { id email name tier } actingUser { email } limits { perMinute perDay usedThisMinute usedToday freeMessagesLeft } } }
`;
const CREATE_KEY = /* GraphQL */ `
  mutation CreateKey($name: String!, $scopes: [String!], $allowExternalUsage: Boolean) {
    createApiKey(name: $name, scopes: $scopes, allowExternalUsage: $allowExternalUsage) { id name secret allowExternalUsage scopes }
  }
`;
const REVOKE_KEY = /* GraphQL */ `mutation Revoke($id: ID!) { revokeApiKey(id: $id) }`;

const ISSUER = 'https://issuer.example.com/';
const AUDIENCE = 'chat-gateway';
const SECRET = 'a-long-shared-secret-for-hs256-tokens-in-tests';
const jwtConfig = (overrides: Partial<JwtConfig>): JwtConfig => ({
  issuer: ISSUER,
  audience: AUDIENCE,
  algorithms: ['HS256'],
  tierClaim: 'tier',
  clockToleranceSeconds: 5,
  ...overrides,
});

async function hsToken(claims: Record<string, unknown>, options: { expiresIn?: string; issuer?: string; audience?: string } = {}) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(String(claims.sub ?? 'auth0|alice'))
    .setIssuer(options.issuer ?? ISSUER)
    .setAudience(options.audience ?? AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? '10m')
    .sign(new TextEncoder().encode(SECRET));
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('HS256 tokens (JWT_SECRET)', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway({ jwt: jwtConfig({ secret: SECRET }) });
  });
  afterAll(() => gateway?.close());

  test('a valid token signs in, creating the user from sub and email with the tier claim', async () => {
    const token = await hsToken({ sub: 'auth0|alice', email: 'Alice@Example.com', name: 'Alice', tier: 'pro' });
    const result = await gateway.anonymous(bearer(token)).execute(VIEWER);
    expect(result.status).toBe(200);
    expect(result.data.viewer).toMatchObject({ isGuest: false, tier: 'PRO', user: { email: 'alice@example.com', name: 'Alice', tier: 'PRO' } });
    const again = await gateway.anonymous(bearer(await hsToken({ sub: 'auth0|alice', email: 'alice@example.com', tier: 'BASIC' }))).execute(VIEWER);
    expect(again.data.viewer.user.id).toBe(result.data.viewer.user.id);
    expect(again.data.viewer.tier).toBe('BASIC');
  });

  test.each([
    ['expired', () => hsToken({ sub: 'auth0|late' }, { expiresIn: '-1h' }), 'expired'],
    ['wrong issuer', () => hsToken({ sub: 'auth0|x' }, { issuer: 'https://evil.example.com/' }), 'iss'],
    ['wrong audience', () => hsToken({ sub: 'auth0|x' }, { audience: 'another-api' }), 'aud'],
    [
      'signed with another secret',
      () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('x')
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('10m')
          .sign(new TextEncoder().encode('not-the-secret-at-all-not-the-secret')),
      'not valid',
    ],
    [
      'alg none',
      async () => {
        const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
        return `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'auth0|mallory', iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 })}.`;
      },
      'not valid',
    ],
  ])('%s: UNAUTHENTICATED with HTTP 401, never a guest', async (_case, makeToken, messagePart) => {
    const result = await gateway.anonymous({ ...bearer(await makeToken()), 'x-device-id': 'would-be-guest' }).execute(VIEWER);
    expect(result.status).toBe(401);
    expect(codeOf(result)).toBe('UNAUTHENTICATED');
    expect(result.errors![0]!.message).toContain(messagePart);
  });

  test('a malformed Authorization header is refused', async () => {
    const result = await gateway.anonymous({ authorization: 'Basic dXNlcjpwYXNz' }).execute(VIEWER);
    expect(result.status).toBe(401);
  });

  test('graphql-ws closes the socket with 4401 for a bad credential', async () => {
    const token = await hsToken({ sub: 'auth0|late' }, { expiresIn: '-1h' });
    const closed = new Promise<{ code: number; reason: string }>((resolve) => {
      const client = createClient({
        url: `${gateway.url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: bearer(token),
        retryAttempts: 0,
        on: { closed: (event) => resolve(event as { code: number; reason: string }) },
      });
      client.subscribe({ query: 'subscription { conversationEvents(conversationId: "x") { seq } }' }, { next: () => {}, error: () => {}, complete: () => {} });
    });
    const { code, reason } = await closed;
    expect(code).toBe(4401);
    expect(reason).toContain('expired');
  });
});

describe('RS256 tokens (JWT_PUBLIC_KEY) and JWKS (JWT_JWKS_URL)', () => {
  let keys: Awaited<ReturnType<typeof generateKeyPair>>;
  let jwks: Server;
  let jwksUrl: string;
  let withPublicKey: Gateway;
  let withJwks: Gateway;
  const rsToken = (kid?: string) =>
    new SignJWT({ email: 'rs@example.com' })
      .setProtectedHeader({ alg: 'RS256', ...(kid ? { kid } : {}) })
      .setSubject('oidc|rs')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(keys.privateKey);

  beforeAll(async () => {
    keys = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;
    withPublicKey = await startGateway({ jwt: jwtConfig({ publicKey: await exportSPKI(keys.publicKey), algorithms: ['RS256'] }) });
    withJwks = await startGateway({ jwt: jwtConfig({ jwksUrl, algorithms: ['RS256'] }) });
  });
  afterAll(async () => {
    await withPublicKey?.close();
    await withJwks?.close();
    jwks?.close();
  });

  test('a token signed by the configured key pair signs in', async () => {
    const result = await withPublicKey.anonymous(bearer(await rsToken())).execute(VIEWER);
    expect(result.data.viewer.user.email).toBe('rs@example.com');
  });

  test('a token whose kid is in the issuer JWKS signs in', async () => {
    const result = await withJwks.anonymous(bearer(await rsToken('key-1'))).execute(VIEWER);
    expect(result.data.viewer.user.email).toBe('rs@example.com');
  });

  test('an HS256 token made with the public key as secret is refused (algorithm confusion)', async () => {
    const publicPem = await exportSPKI(keys.publicKey);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('x')
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(publicPem));
    const result = await withPublicKey.anonymous(bearer(forged)).execute(VIEWER);
    expect(result.status).toBe(401);
  });
});

describe('API keys', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway({ jwt: jwtConfig({ secret: SECRET }) });
  });
  afterAll(() => gateway?.close());

  /** A person signed in with a token (keys are made by people, not by other keys). */
  async function signedIn(tier: string) {
    const subject = `auth0|${Math.random().toString(36).slice(2)}`;
    const caller = gateway.anonymous(bearer(await hsToken({ sub: subject, email: `${subject.slice(6)}@example.com`, tier })));
    const id: string = (await caller.execute(VIEWER)).data.viewer.user.id;
    return Object.assign(caller, { id: Buffer.from(id, 'base64url').toString().split(':')[1]! });
  }

  test('created once with its secret shown once, usable as a bearer, revocable', async () => {
    const owner = await signedIn('BASIC');
    const created = (await owner.execute(CREATE_KEY, { name: 'ci bot' })).data.createApiKey;
    expect(created.secret).toMatch(/^gwk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(created.scopes).toEqual(['read', 'write', 'chat']);
    const stored = await gateway.app.services.db.prisma.apiKey.findFirstOrThrow({ where: { name: 'ci bot' } });
    expect(stored.secretHash).not.toContain(created.secret);
    expect(JSON.stringify(stored)).not.toContain(created.secret.slice(22));

    const bot = gateway.anonymous(bearer(created.secret));
    expect((await bot.execute(VIEWER)).data.viewer.user.email).toBe((await owner.execute(VIEWER)).data.viewer.user.email);
    const used = await gateway.app.services.db.prisma.apiKey.findUniqueOrThrow({ where: { id: stored.id } });
    expect(used.lastUsedAt).not.toBeNull();

    expect((await owner.execute(REVOKE_KEY, { id: created.id })).data.revokeApiKey).toBe(true);
    const refused = await bot.execute(VIEWER);
    expect(refused.status).toBe(401);
    expect(refused.errors![0]!.message).toContain('revoked');
  });

  test('an expired or unknown key is UNAUTHENTICATED', async () => {
    const owner = await signedIn('BASIC');
    const created = (await owner.execute(CREATE_KEY, { name: 'short-lived' })).data.createApiKey;
    await gateway.app.services.db.prisma.apiKey.updateMany({
      where: { name: 'short-lived', ownerId: owner.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const expired = await gateway.anonymous(bearer(created.secret)).execute(VIEWER);
    expect(expired.status).toBe(401);
    expect(expired.errors![0]!.message).toContain('expired');
    const forged = `${created.secret.slice(0, -4)}AAAA`;
    expect((await gateway.anonymous(bearer(forged)).execute(VIEWER)).status).toBe(401);
  });

  test('scopes limit what a key may do', async () => {
    const readOnly = await gateway.user({ tier: 'BASIC', scopes: ['read'] });
    expect((await readOnly.execute(CONVERSATIONS, { first: 1 })).data.conversations.totalCount).toBe(0);
    const send = await readOnly.execute(SEND_MESSAGE, { input: { content: 'hi' } });
    expect(send.status).toBe(403);
    expect(codeOf(send)).toBe('FORBIDDEN');
    const badScope = await (await signedIn('BASIC')).execute(CREATE_KEY, { name: 'x', scopes: ['read', 'root'] });
    expect(codeOf(badScope)).toBe('BAD_USER_INPUT');
    expect(badScope.errors![0]!.message).toContain('root');
  });

  test('guests, keys and tiers without the feature cannot create keys', async () => {
    expect(codeOf(await gateway.guest().execute(CREATE_KEY, { name: 'x' }))).toBe('FORBIDDEN');
    expect(codeOf(await (await signedIn('FREE')).execute(CREATE_KEY, { name: 'x' }))).toBe('FORBIDDEN');
    expect(codeOf(await (await signedIn('PRO')).execute(CREATE_KEY, { name: 'x', allowExternalUsage: true }))).toBe('FORBIDDEN');
    expect((await (await signedIn('ENTERPRISE')).execute(CREATE_KEY, { name: 'x', allowExternalUsage: true })).data.createApiKey.allowExternalUsage).toBe(true);
    // The test user calls with a key: a key may not mint keys.
    expect(codeOf(await (await gateway.user({ tier: 'PRO' })).execute(CREATE_KEY, { name: 'x' }))).toBe('FORBIDDEN');
  });
});
