import { randomUUID } from 'node:crypto';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { buildApp, type App } from '../../src/app.js';
import type { Tier } from '../../src/generated/prisma/enums.js';
import type { Config, ProviderConfig } from '../../src/lib/config.js';
import { dropSchema } from '../../src/lib/db.js';
import { defaultUpstreamPolicy } from '../../src/lib/llm/upstream-policy.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';

export interface GraphQLResponse<T = any> {
  status: number;
  headers: Headers;
  data?: T;
  errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }>;
}

export interface Gateway {
  app: App;
  url: string;
  upstream: FakeUpstream;
  /** A guest caller with a fresh device id, so tests never share data. */
  guest(headers?: Record<string, string>): Caller;
  /** A signed-up user calling with an API key of their own. */
  user(options?: UserOptions): Promise<Caller & { id: string; email: string; apiKey: string }>;
  anonymous(headers?: Record<string, string>): Caller;
  close(): Promise<void>;
}

export interface UserOptions {
  tier?: Tier;
  credits?: number;
  email?: string;
  scopes?: string[];
  allowExternalUsage?: boolean;
  headers?: Record<string, string>;
}

/** An operation as text, or a typed document from codegen (test/generated). */
export type Operation<TResult = any, TVariables = Record<string, unknown>> = string | TypedDocumentNode<TResult, TVariables>;

export interface Caller {
  headers: Record<string, string>;
  execute<T = any, V = Record<string, unknown>>(query: Operation<T, V>, variables?: V): Promise<GraphQLResponse<T>>;
  /** Collects every event of a subscription over graphql-ws until it completes. */
  subscribe<T = any, V = Record<string, unknown>>(query: Operation<T, V>, variables?: V, onNext?: (data: T) => void): Subscription<T>;
  ws(): Client;
  /** A GraphQL multipart request (the upload spec): `files` maps a variable path such as "file" or "input.attachments.0" to a file. */
  upload<T = any>(query: string, variables: Record<string, unknown>, files: Record<string, File>): Promise<GraphQLResponse<T>>;
}

export interface Subscription<T> {
  events: T[];
  errors: unknown[];
  done: Promise<T[]>;
  cancel(): void;
}

const textOf = (operation: Operation<any, any>) => (typeof operation === 'string' ? operation : print(operation));

/** The database the suite runs on: in-memory PGlite, or TEST_DATABASE_URL (PostgreSQL) in a schema of its own. */
function databaseOverrides(): Partial<Config> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return { dataDir: 'memory://', databaseUrl: undefined };
  return { databaseUrl: url, databaseSchema: `test_${randomUUID().replaceAll('-', '').slice(0, 16)}` };
}

export const FAKE_MODELS = ['fake-a', 'fake-b', 'fake-c'];
/** A configured model that needs the PRO tier. */
export const PRO_MODEL = 'fake-pro';
/** A configured model that takes a reasoning effort. */
export const REASONING_MODEL = 'fake-c';

export async function startGateway(overrides: Partial<Config> = {}): Promise<Gateway> {
  const upstream = await startFakeUpstream();
  const fakeProvider: ProviderConfig = {
    id: 'fake',
    name: 'Fake upstream',
    baseURL: upstream.url,
    apiKey: 'test-key',
    models: [
      ...FAKE_MODELS.map((id) => ({
        id,
        vendor: 'Fake',
        contextWindow: 16_000,
        inputPrice: 1,
        outputPrice: 2,
        modalities: id === REASONING_MODEL ? ['text', 'image', 'reasoning'] : ['text', 'image'],
      })),
      { id: PRO_MODEL, vendor: 'Fake', contextWindow: 16_000, inputPrice: 10, outputPrice: 20, modalities: ['text'], minTier: 'PRO' as const },
      { id: 'fake-embed', vendor: 'Fake', contextWindow: 8_000, maxOutputTokens: 0, inputPrice: 0.02, modalities: ['embedding'] },
      { id: 'fake-image', vendor: 'Fake', contextWindow: 4_000, maxOutputTokens: 0, imagePrice: 0.02, modalities: ['image-output'] },
      {
        id: 'fake-private',
        vendor: 'Fake',
        contextWindow: 16_000,
        inputPrice: 1,
        outputPrice: 2,
        modalities: ['text'],
        minTier: 'PRO' as const,
        privacy: 'PRIVATE_ENCRYPTED' as const,
      },
      {
        id: 'fake-team',
        vendor: 'Fake',
        contextWindow: 16_000,
        inputPrice: 1,
        outputPrice: 2,
        modalities: ['text'],
        minTier: 'ENTERPRISE' as const,
        privacy: 'TEAM_ENCRYPTED' as const,
      },
      {
        id: 'fake-realtime',
        vendor: 'Fake',
        contextWindow: 32_000,
        inputPrice: 4,
        outputPrice: 16,
        modalities: ['text', 'audio', 'realtime'],
        minTier: 'PRO' as const,
      },
    ],
    voice: {
      ttsModels: ['fake-tts'],
      sttModels: ['whisper-1'],
      voices: [
        { id: 'fake-voice', name: 'Fake Voice', gender: 'female' },
        { id: 'fake-deep', name: 'Fake Deep', gender: 'male' },
      ],
    },
  };
  const database = databaseOverrides();
  const app = await buildApp({
    ...database,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    providers: [fakeProvider],
    defaultModel: 'fake-a',
    shutdownGraceMs: 0,
    // Retries keep their shape but not their wait.
    upstream: { ...defaultUpstreamPolicy, retryBaseMs: 5 },
    ...overrides,
  });
  const url = await app.start(0, '127.0.0.1');
  const sockets: Client[] = [];

  function caller(headers: Record<string, string>): Caller {
    let socket: Client | undefined;
    const ws = () => {
      socket ??= createClient({
        url: `${url.replace('http', 'ws')}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams: headers,
        lazy: true,
        retryAttempts: 0,
      });
      sockets.push(socket);
      return socket;
    };
    return {
      headers,
      ws,
      async execute(query, variables) {
        const response = await fetch(`${url}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...headers },
          body: JSON.stringify({ query: textOf(query), variables }),
        });
        const body = (await response.json()) as GraphQLResponse;
        return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
      },
      async upload(query, variables, files) {
        const form = new FormData();
        form.set('operations', JSON.stringify({ query, variables }));
        const paths = Object.keys(files);
        form.set('map', JSON.stringify(Object.fromEntries(paths.map((path, index) => [String(index), [`variables.${path}`]]))));
        for (const [index, path] of paths.entries()) form.set(String(index), files[path]!);
        const response = await fetch(`${url}/graphql`, { method: 'POST', headers: { 'graphql-require-preflight': '1', ...headers }, body: form });
        const text = await response.text();
        const body = (text.startsWith('{') ? JSON.parse(text) : { errors: [{ message: text }] }) as GraphQLResponse;
        return { status: response.status, headers: response.headers, data: body.data, errors: body.errors };
      },
      subscribe(query, variables, onNext) {
        const events: any[] = [];
        const errors: unknown[] = [];
        let cancel = () => {};
        const done = new Promise<any[]>((resolve, reject) => {
          cancel = ws().subscribe(
            { query: textOf(query), variables: variables as Record<string, unknown> },
            {
              next: (value) => {
                if (value.errors) errors.push(...value.errors);
                if (value.data) {
                  events.push(value.data);
                  onNext?.(value.data as any);
                }
              },
              error: (error) => reject(error),
              complete: () => resolve(events),
            },
          );
        });
        return { events, errors, done, cancel: () => cancel() };
      },
    };
  }

  return {
    app,
    url,
    upstream,
    guest: (headers = {}) => caller({ 'x-device-id': `device-${randomUUID()}`, ...headers }),
    async user(options = {}) {
      const { admin } = app.services;
      const email = options.email ?? `user-${randomUUID()}@example.com`;
      const user = await admin.createUser({ email, tier: options.tier ?? 'FREE' });
      if (options.credits !== undefined) await admin.setCredits(user.id, options.credits);
      const key = await admin.createApiKey(user.id, { name: 'tests', scopes: options.scopes, allowExternalUsage: options.allowExternalUsage });
      return { ...caller({ authorization: `Bearer ${key.secret}`, ...options.headers }), id: user.id, email, apiKey: key.secret };
    },
    anonymous: (headers = {}) => caller(headers),
    async close() {
      await Promise.all(sockets.map((socket) => socket.dispose()));
      await app.stop();
      await upstream.close();
      if (database.databaseUrl && database.databaseSchema) await dropSchema(database.databaseUrl, database.databaseSchema);
    },
  };
}

/** Polls until the check returns something truthy; for waiting on background work, never for timing assertions. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 5_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The machine-readable code of a GraphQL response's first error. */
export const codeOf = (result: { errors?: Array<{ extensions?: Record<string, any> }> }) => result.errors?.[0]?.extensions?.code;
