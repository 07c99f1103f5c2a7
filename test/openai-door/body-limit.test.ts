import OpenAI from 'openai';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startGateway, type Gateway } from '../support/harness.js';

// A body past MAX_BODY_BYTES on /v1 is refused in OpenAI's error shape, and the gateway goes on serving.
const MAX_BODY_BYTES = 64 * 1024;
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ maxBodyBytes: MAX_BODY_BYTES });
});
afterAll(() => gateway?.close());

test('a request past the limit is 413 request_too_large for the openai SDK; nothing reaches the model', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const client = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: alice.apiKey, maxRetries: 0 });
  const error = await client.chat.completions
    .create({ model: 'fake-a', messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY_BYTES * 4) }] })
    .catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(OpenAI.APIError);
  expect(error).toMatchObject({ status: 413, type: 'invalid_request_error', code: 'request_too_large' });
  expect((error as Error).message).toContain(`${MAX_BODY_BYTES} bytes`);
  expect(gateway.upstream.requests).toHaveLength(0);
  const small = await client.chat.completions.create({ model: 'fake-a', messages: [{ role: 'user', content: 'still here?' }] });
  expect(small.choices[0]!.finish_reason).toBe('stop');
});

test('a chunked body past the limit is refused the same way as it arrives', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const big = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(`{"model":"fake-a","messages":[{"role":"user","content":"${'y'.repeat(MAX_BODY_BYTES * 2)}"}]}`));
      controller.close();
    },
  });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${alice.apiKey}`, 'content-type': 'application/json' },
    body: big,
    duplex: 'half',
  } as RequestInit);
  expect(response.status).toBe(413);
  expect(await response.json()).toMatchObject({ error: { type: 'invalid_request_error', code: 'request_too_large' } });
});
