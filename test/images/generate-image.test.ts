import { PNG } from 'pngjs';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { demoImage } from '../../src/lib/llm/demo-image.js';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { CHAT } from '../support/operations.js';

const GENERATE = /* GraphQL */ `
  mutation ($input: GenerateImageInput!) {
    generateImage(input: $input) { images { id filename mimeType size url conversation { id } } model { id } cost revisedPrompt }
  }
`;
const HISTORY = /* GraphQL */ `
  query ($id: ID!) { conversation(id: $id) { messages(first: 10) { edges { node { role content attachments { id mimeType } } } } } }
`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const balanceOf = async (userId: string) => (await gateway.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: userId } })).creditBalance;

test('images are made through the images API, kept as the caller’s files and charged per image', async () => {
  const alice = await gateway.user({ credits: 1_000_000 });
  const result = await alice.execute(GENERATE, { input: { prompt: 'a llama on the moon', model: 'fake-image', count: 2, size: '256x256' } });
  expect(result.errors).toBeUndefined();
  const generation = result.data.generateImage;
  expect(generation).toMatchObject({ model: { id: expect.any(String) }, cost: 0.04, revisedPrompt: 'A demo picture of: a llama on the moon' });
  expect(generation.images).toHaveLength(2);

  const call = gateway.upstream.requests.find((request) => request.path.endsWith('/images/generations'))!;
  expect(call.body).toMatchObject({ model: 'fake-image', prompt: 'a llama on the moon', n: 2, size: '256x256', response_format: 'b64_json' });
  // 0.02 USD per image, two images: 40,000 micro-USD credits.
  expect(await balanceOf(alice.id)).toBe(1_000_000 - 40_000);

  const [first] = generation.images;
  expect(first).toMatchObject({ mimeType: 'image/png', conversation: null });
  const download = await fetch(first.url, { headers: alice.headers });
  expect(download.status).toBe(200);
  const bytes = Buffer.from(await download.arrayBuffer());
  expect(bytes.equals(demoImage('a llama on the moon', 256))).toBe(true);
  expect(PNG.sync.read(bytes)).toMatchObject({ width: 256, height: 256 });
  expect((await fetch(first.url, { headers: (await gateway.user()).headers })).status).toBe(404);
});

test('with a conversation, the prompt and the images become a turn of its history', async () => {
  const alice = await gateway.user({ credits: 1_000_000 });
  const chat = await alice.execute(CHAT, { input: { content: 'let us draw' } });
  const conversationId = chat.data.chat.conversation.id;
  const result = await alice.execute(GENERATE, { input: { prompt: 'a red barn', model: 'fake-image', conversationId } });
  expect(result.errors).toBeUndefined();
  expect(result.data.generateImage.images[0].conversation.id).toBe(conversationId);

  const history = (await alice.execute(HISTORY, { id: conversationId })).data.conversation.messages.edges.map((edge: any) => edge.node);
  expect(history.map((message: any) => message.role)).toEqual(['USER', 'ASSISTANT', 'USER', 'ASSISTANT']);
  expect(history[2].content).toBe('a red barn');
  expect(history[3].attachments).toEqual([{ id: result.data.generateImage.images[0].id, mimeType: 'image/png' }]);
});

test('a failed call charges nothing and stores nothing', async () => {
  const alice = await gateway.user({ credits: 1_000_000 });
  gateway.upstream.behave({ failStatus: 500 });
  const result = await alice.execute(GENERATE, { input: { prompt: 'a storm', model: 'fake-image' } });
  expect(codeOf(result)).toBe('PROVIDER_ERROR');
  expect(await balanceOf(alice.id)).toBe(1_000_000);
  expect((await alice.execute('{ files { id } }')).data.files).toEqual([]);
});

test('refusals: too little credit, a chat model, a bad count', async () => {
  const poor = await gateway.user({ credits: 100 });
  expect(codeOf(await poor.execute(GENERATE, { input: { prompt: 'gold', model: 'fake-image' } }))).toBe('INSUFFICIENT_CREDITS');
  expect(gateway.upstream.requests.filter((request) => request.path.endsWith('/images/generations'))).toHaveLength(0);
  const alice = await gateway.user({ credits: 1_000_000 });
  expect(codeOf(await alice.execute(GENERATE, { input: { prompt: 'x', model: 'fake-a' } }))).toBe('BAD_USER_INPUT');
  expect(codeOf(await alice.execute(GENERATE, { input: { prompt: 'x', model: 'fake-image', count: 9 } }))).toBe('BAD_USER_INPUT');
  expect(codeOf(await alice.execute(CHAT, { input: { content: 'hi', models: ['fake-image'] } }))).toBe('BAD_USER_INPUT');
});

test('the demo provider draws offline', async () => {
  const demo = await startGateway({ providers: [], defaultModel: undefined });
  try {
    const guest = demo.guest();
    const result = await guest.execute(GENERATE, { input: { prompt: 'a lighthouse' } });
    expect(result.errors).toBeUndefined();
    expect(result.data.generateImage.model.id).toBeDefined();
    const bytes = Buffer.from(await (await fetch(result.data.generateImage.images[0].url, { headers: guest.headers })).arrayBuffer());
    expect(bytes.equals(demoImage('a lighthouse', 256))).toBe(true);
  } finally {
    await demo.close();
  }
});
