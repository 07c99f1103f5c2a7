import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { eventually, startGateway, type Gateway } from '../support/harness.js';
import { SERVER_TOOLS, TOOL_CHAT } from './tool-support.js';

// knowledge_search and fetch_url as the model uses them: through the tool loop, against real data.
let gateway: Gateway;
let pages: Server;
let base: string;

beforeAll(async () => {
  pages = createServer((request, response) => {
    if (request.url === '/tides.html') {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><html><body><h1>Tides</h1><p>Spring tides follow the full moon.</p></body></html>');
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(pages.address() as AddressInfo).port}`;
  gateway = await startGateway({
    embeddingModel: 'fake-embed',
    batchPollMs: 50,
    fileUrlAllowedHosts: ['127.0.0.1'],
    fileUrlAllowHttp: true,
    fileUrlAllowLoopback: true,
  });
});
afterAll(async () => {
  await gateway?.close();
  await new Promise((resolve) => pages?.close(resolve));
});
beforeEach(() => gateway.upstream.reset());

const toolMessage = () =>
  gateway.upstream.requests
    .filter((request) => request.path.endsWith('/chat/completions'))
    .at(-1)!
    .body.messages.at(-1);

test('both are listed as available once the server has what they need', async () => {
  const user = await gateway.user({ tier: 'FREE' });
  const listed = (await user.execute(SERVER_TOOLS)).data.serverTools;
  const availability = Object.fromEntries(listed.map((tool: any) => [tool.name, tool.available]));
  expect(availability).toMatchObject({ knowledge_search: true, fetch_url: true });
});

test("knowledge_search finds passages of the caller's own collections, not another user's", async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  const bob = await gateway.user({ tier: 'BASIC' });
  const created = await alice.execute(/* GraphQL */ `mutation { createCollection(name: "Handbook") { id } }`);
  const collectionId = created.data.createCollection.id;
  const text = '# Leave\n\nEmployees get thirty days of paid leave each year.\n\n# Travel\n\nTrains are booked in second class.';
  await alice.execute(/* GraphQL */ `mutation ($id: ID!, $texts: [KnowledgeTextInput!]) { addToCollection(collectionId: $id, texts: $texts) { id } }`, {
    id: collectionId,
    texts: [{ source: 'handbook.md', text }],
  });
  await eventually(async () => {
    const state = await alice.execute(/* GraphQL */ `query ($id: ID!) { collection(id: $id) { documents(first: 1) { edges { node { status } } } } }`, {
      id: collectionId,
    });
    return state.data.collection.documents.edges[0].node.status === 'READY' || null;
  }, 15_000);

  const found = await alice.execute(TOOL_CHAT, { input: { content: 'knowledge_search paid leave', serverTools: ['knowledge_search'] } });
  const reply = found.data.chat.replies[0];
  expect(reply.status).toBe('COMPLETE');
  expect(reply.toolCalls[0].name).toBe('knowledge_search');
  expect(reply.toolCalls[0].result).toContain('thirty days of paid leave');
  expect(toolMessage()).toMatchObject({ role: 'tool', content: reply.toolCalls[0].result });

  const other = await bob.execute(TOOL_CHAT, { input: { content: 'knowledge_search paid leave', serverTools: ['knowledge_search'] } });
  expect(other.data.chat.replies[0].toolCalls[0].result).toBe('The caller has no knowledge collections.');
});

test('fetch_url reads the text of an allowed page, and a refused address is an error result the model sees', async () => {
  const alice = await gateway.user({ tier: 'BASIC' });
  gateway.upstream.behave({ toolCalls: [{ name: 'fetch_url', arguments: JSON.stringify({ url: `${base}/tides.html` }) }] });
  const fetched = await alice.execute(TOOL_CHAT, { input: { content: 'read the page', serverTools: ['fetch_url'] } });
  const call = fetched.data.chat.replies[0].toolCalls[0];
  expect(call.result).toContain('Spring tides follow the full moon.');
  expect(call.result).not.toContain('<p>');

  gateway.upstream.reset();
  gateway.upstream.behave({ toolCalls: [{ name: 'fetch_url', arguments: JSON.stringify({ url: 'http://169.254.169.254/latest/meta-data/' }) }] });
  const refused = await alice.execute(TOOL_CHAT, { input: { content: 'read the metadata', serverTools: ['fetch_url'] } });
  const reply = refused.data.chat.replies[0];
  expect(reply.status).toBe('COMPLETE');
  expect(reply.toolCalls[0].result).toMatch(/^Error: /);
  expect(reply.toolCalls[0].result).toContain('169.254.169.254');
});
