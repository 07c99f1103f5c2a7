import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { codeOf, REASONING_MODEL, startGateway, type Gateway } from '../support/harness.js';
import { CHAT, CONVERSATIONS } from '../support/operations.js';

/** A search engine with SearXNG's JSON API on a loopback port. */
let searchServer: Server;
let searchUrl: string;
let searchQueries: string[] = [];
let searchFails = false;
let gateway: Gateway;

beforeAll(async () => {
  searchServer = createServer((request, response) => {
    const url = new URL(request.url!, 'http://localhost');
    searchQueries.push(url.searchParams.get('q') ?? '');
    if (searchFails || url.searchParams.get('format') !== 'json') return void response.writeHead(500).end();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({
        query: url.searchParams.get('q'),
        results: [
          { title: 'Tides explained', url: 'https://example.org/tides', content: 'Tides are caused by the Moon.' },
          { title: 'Ocean facts', url: 'https://example.org/ocean', content: 'The ocean covers 71% of Earth.' },
          { url: 'https://example.org/untitled', content: 'no title, skipped' },
        ],
      }),
    );
  });
  await new Promise<void>((resolve) => searchServer.listen(0, '127.0.0.1', resolve));
  searchUrl = `http://127.0.0.1:${(searchServer.address() as AddressInfo).port}/search`;
  gateway = await startGateway({ webSearchUrl: searchUrl });
});
afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => searchServer?.close(resolve));
});
beforeEach(() => {
  gateway.upstream.reset();
  searchQueries = [];
  searchFails = false;
});

const systemOf = (request: { body: any }) => request.body.messages.find((message: any) => message.role === 'system')?.content ?? '';

describe('webSearch', () => {
  test('the top results join the context, numbered for citation', async () => {
    const user = await gateway.user({ tier: 'BASIC' });
    const result = await user.execute(CHAT, { input: { content: 'Why are there tides?', webSearch: true, systemPrompt: 'Be brief.' } });
    expect(result.errors).toBeUndefined();
    expect(searchQueries).toEqual(['Why are there tides?']);
    const system = systemOf(gateway.upstream.requests.at(-1)!);
    expect(system).toContain('Be brief.');
    expect(system).toContain('[web 1: Tides explained](https://example.org/tides)\nTides are caused by the Moon.');
    expect(system).toContain('[web 2: Ocean facts](https://example.org/ocean)');
    expect(system).not.toContain('untitled');
  });

  test('without webSearch nothing is searched', async () => {
    const user = await gateway.user({ tier: 'BASIC' });
    await user.execute(CHAT, { input: { content: 'Why are there tides?' } });
    expect(searchQueries).toEqual([]);
    expect(systemOf(gateway.upstream.requests.at(-1)!)).not.toContain('[web');
  });

  test('web search is a BASIC feature; a refusal or a failed search stores nothing', async () => {
    const guest = gateway.guest();
    expect(codeOf(await guest.execute(CHAT, { input: { content: 'search please', webSearch: true } }))).toBe('FORBIDDEN');
    const user = await gateway.user({ tier: 'BASIC' });
    searchFails = true;
    const failed = await user.execute(CHAT, { input: { content: 'search please', webSearch: true } });
    expect(codeOf(failed)).toBe('PROVIDER_ERROR');
    expect(gateway.upstream.requests).toHaveLength(0);
    for (const caller of [guest, user]) expect((await caller.execute(CONVERSATIONS, { first: 5 })).data.conversations.totalCount).toBe(0);
  });

  test('a server without a search engine says so', async () => {
    const plain = await startGateway();
    try {
      const user = await plain.user({ tier: 'BASIC' });
      expect(codeOf(await user.execute(CHAT, { input: { content: 'search please', webSearch: true } }))).toBe('PROVIDER_UNAVAILABLE');
    } finally {
      await plain.close();
    }
  });
});

describe('enableThinking', () => {
  test('reasoning models get a reasoning effort; other models are left alone', async () => {
    const user = await gateway.user({ tier: 'BASIC' });
    const efforts = async (enableThinking: boolean | undefined) => {
      gateway.upstream.reset();
      await user.execute(CHAT, { input: { content: 'think', models: [REASONING_MODEL, 'fake-a'], enableThinking } });
      return Object.fromEntries(gateway.upstream.requests.map((request) => [request.body.model, request.body.reasoning_effort ?? null]));
    };
    expect(await efforts(true)).toEqual({ [REASONING_MODEL]: 'high', 'fake-a': null });
    expect(await efforts(false)).toEqual({ [REASONING_MODEL]: 'low', 'fake-a': null });
    expect(await efforts(undefined)).toEqual({ [REASONING_MODEL]: null, 'fake-a': null });
  });
});
