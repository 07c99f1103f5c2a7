import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { eventually, PRO_MODEL, startGateway, type Gateway } from '../support/harness.js';

// OpenAI's error shapes and status codes, as the openai SDK reads them; the model list; embeddings.
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const clientFor = (apiKey: string) => new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey, maxRetries: 0 });
const ask = (client: OpenAI, model = 'fake-a', extra: Record<string, unknown> = {}) =>
  client.chat.completions
    .create({ model, messages: [{ role: 'user', content: 'hi' }], ...extra } as never)
    .catch((error: unknown) => error as InstanceType<typeof OpenAI.APIError>);

test('a bad API key is 401 invalid_api_key', async () => {
  const error = await ask(clientFor('gwk_not-a-real-key'));
  expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
  expect(error).toMatchObject({ status: 401, type: 'invalid_request_error', code: 'invalid_api_key' });
  expect((error as InstanceType<typeof OpenAI.APIError>).message).toContain('API key is not valid');
});

test('an unknown model is 404 model_not_found; a model above the tier is 403', async () => {
  const alice = await gateway.user({ tier: 'FREE' });
  const unknown = await ask(clientFor(alice.apiKey), 'gpt-17-ultra');
  expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
  expect(unknown).toMatchObject({ code: 'model_not_found', param: 'model' });
  const pro = await ask(clientFor(alice.apiKey), PRO_MODEL);
  expect(pro).toBeInstanceOf(OpenAI.PermissionDeniedError);
  expect(pro).toMatchObject({ status: 403, code: 'model_not_allowed' });
});

test('a key without the chat scope is 403; a named tool_choice and bad messages are 400 naming the parameter, in the caller language', async () => {
  const reader = await gateway.user({ tier: 'BASIC', scopes: ['read'] });
  expect(await ask(clientFor(reader.apiKey))).toBeInstanceOf(OpenAI.PermissionDeniedError);

  const alice = await gateway.user({ tier: 'BASIC' });
  const client = clientFor(alice.apiKey);
  const named = await ask(client, 'fake-a', {
    tools: [{ type: 'function', function: { name: 'now', parameters: { type: 'object' } } }],
    tool_choice: { type: 'function', function: { name: 'now' } },
  });
  expect(named).toBeInstanceOf(OpenAI.BadRequestError);
  expect(named).toMatchObject({ type: 'invalid_request_error', param: 'tool_choice' });
  const results = await ask(client, 'fake-a', {
    messages: [
      { role: 'user', content: 'now please' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_0', type: 'function', function: { name: 'now', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_0', content: 'noon' },
    ],
  });
  expect(results).toMatchObject({ status: 400, param: 'messages' });
  expect((results as Error).message).toContain('x-conversation-id');
  const last = await client.chat.completions
    .create({ model: 'fake-a', messages: [{ role: 'assistant', content: 'me first' }] })
    .catch((error: unknown) => error as InstanceType<typeof OpenAI.APIError>);
  expect(last).toMatchObject({ status: 400, param: 'messages' });
  const french = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: alice.apiKey, maxRetries: 0, defaultHeaders: { 'accept-language': 'fr' } });
  const empty = (await french.chat.completions.create({ model: 'fake-a', messages: [] }).catch((error: unknown) => error)) as Error;
  expect(empty).toMatchObject({ status: 400, param: 'messages' });
  expect(empty.message).toContain('La requête doit contenir');
  expect(gateway.upstream.requests).toHaveLength(0);
  expect(await gateway.app.services.db.prisma.conversation.count({ where: { ownerId: alice.id } })).toBe(0);
});

test('not enough credits is 402 insufficient_quota, and nothing is stored or charged', async () => {
  const alice = await gateway.user({ tier: 'BASIC', credits: 1 });
  const error = await ask(clientFor(alice.apiKey));
  expect(error).toMatchObject({ status: 402, type: 'insufficient_quota', code: 'insufficient_quota' });
  const { prisma } = gateway.app.services.db;
  expect(await prisma.conversation.count({ where: { ownerId: alice.id } })).toBe(0);
  expect((await prisma.user.findUniqueOrThrow({ where: { id: alice.id } })).creditBalance).toBe(1);
});

test('the rate limit is shared with GraphQL: past it, 429 rate_limit_exceeded with retry-after', async () => {
  const alice = await gateway.user({ tier: 'FREE' });
  await gateway.app.services.db.prisma.user.update({ where: { id: alice.id }, data: { freeMessagesUsed: -100 } });
  const client = clientFor(alice.apiKey);
  for (let index = 0; index < 5; index += 1) {
    const result = await alice.execute('mutation ($input: SendMessageInput!) { sendMessage(input: $input) { replies { id } } }', {
      input: { content: `m${index}` },
    });
    expect(result.errors).toBeUndefined();
  }
  for (let index = 0; index < 5; index += 1) await client.chat.completions.create({ model: 'fake-a', messages: [{ role: 'user', content: `o${index}` }] });
  const limited = await ask(client);
  expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
  expect(limited).toMatchObject({ status: 429, type: 'requests', code: 'rate_limit_exceeded' });
  expect(Number((limited as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after'))).toBeGreaterThan(0);
});

test('GET /v1/models lists what the caller may use; a model is retrieved by id', async () => {
  const alice = await gateway.user({ tier: 'FREE' });
  const client = clientFor(alice.apiKey);
  const ids: string[] = [];
  for await (const model of client.models.list()) ids.push(model.id);
  expect(ids).toEqual(expect.arrayContaining(['fake-a', 'fake-b', 'fake-c', 'fake-embed']));
  expect(ids).not.toContain(PRO_MODEL);
  expect(await client.models.retrieve('fake-b')).toMatchObject({ id: 'fake-b', object: 'model', owned_by: 'fake' });
  expect(await client.models.retrieve('nope').catch((error: unknown) => error)).toBeInstanceOf(OpenAI.NotFoundError);
  expect(
    await clientFor('gwk_bad')
      .models.list()
      .catch((error: unknown) => error),
  ).toBeInstanceOf(OpenAI.AuthenticationError);
});

test('embeddings through the provider, base64 (the SDK default) and float alike, with a usage row', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const client = clientFor(alice.apiKey);
  const decoded = await client.embeddings.create({ model: 'fake-embed', input: ['first text', 'second text'] });
  const floats = await client.embeddings.create({ model: 'fake-embed', input: ['first text', 'second text'], encoding_format: 'float' });
  expect(decoded.data.map((item) => item.index)).toEqual([0, 1]);
  expect(decoded.data[0]!.embedding.length).toBeGreaterThan(2);
  expect(decoded.data[0]!.embedding).not.toEqual(decoded.data[1]!.embedding);
  for (const [index, item] of floats.data.entries()) {
    expect(item.embedding.map((value) => Math.fround(value))).toEqual(decoded.data[index]!.embedding);
  }
  expect(floats.usage.prompt_tokens).toBeGreaterThan(0);
  expect(gateway.upstream.requests.at(-1)).toMatchObject({ path: '/v1/embeddings', body: { model: 'fake-embed', input: ['first text', 'second text'] } });
  const rows = await eventually(async () => {
    const found = await gateway.app.services.db.prisma.usageEvent.findMany({ where: { userId: alice.id, action: 'EMBEDDING' } });
    return found.length === 2 ? found : null;
  });
  expect(rows.every((row) => row.success && row.modelId === 'fake-embed' && row.inputTokens === floats.usage.prompt_tokens)).toBe(true);

  const chatModel = await client.embeddings.create({ model: 'fake-a', input: 'x' }).catch((error: unknown) => error);
  expect(chatModel).toBeInstanceOf(OpenAI.NotFoundError);
  const badInput = await client.embeddings.create({ model: 'fake-embed', input: [] }).catch((error: unknown) => error);
  expect(badInput).toMatchObject({ status: 400, param: 'input' });
});

test('an unknown path under /v1 is 404 in OpenAI shape', async () => {
  const response = await fetch(`${gateway.url}/v1/completions`, { method: 'POST', body: '{}' });
  expect(response.status).toBe(404);
  expect(((await response.json()) as any).error).toMatchObject({ type: 'invalid_request_error', code: 'not_found' });
});
