import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { tinyPng } from './fixtures.js';

const CHAT = /* GraphQL */ `mutation ($input: SendMessageInput!) {
  chat(input: $input) { conversation { id } userMessage { attachments { id filename mimeType size url } } replies { content status } }
}`;

let gateway: Gateway;
let files: Server;
let base: string;

beforeAll(async () => {
  files = createServer((request, response) => {
    if (request.url === '/brief.md')
      return void response.writeHead(200, { 'content-type': 'application/octet-stream' }).end('# Brief\n\nThe llama budget is 42 bales of hay.');
    if (request.url === '/pixel.png') return void response.writeHead(200).end(tinyPng);
    response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => files.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  // Serving files from this machine needs both the allow-list entry and the test-only loopback switch.
  gateway = await startGateway({ fileUrlAllowedHosts: ['127.0.0.1'], fileUrlAllowHttp: true, fileUrlAllowLoopback: true });
});
afterAll(async () => {
  await gateway?.close();
  files.closeAllConnections();
  files.close();
});

test('a file named by URL is fetched, attached and read by the model like an upload', async () => {
  const alice = await gateway.user();
  const result = await alice.execute(CHAT, { input: { content: 'What is the budget?', fileUrls: [`${base}/brief.md`] } });
  expect(result.errors).toBeUndefined();
  const [attachment] = result.data.chat.userMessage.attachments;
  expect(attachment).toMatchObject({ filename: 'brief.md', mimeType: 'text/markdown' });
  const upstreamMessages = JSON.stringify(gateway.upstream.requests.at(-1)!.body.messages);
  expect(upstreamMessages).toContain('42 bales of hay');

  const download = await fetch(attachment.url, { headers: alice.headers });
  expect(download.status).toBe(200);
  expect(download.headers.get('content-type')).toBe('text/markdown');
  expect(await download.text()).toContain('42 bales of hay');

  const bob = await gateway.user();
  expect((await fetch(attachment.url, { headers: bob.headers })).status).toBe(404);
  expect((await fetch(attachment.url)).status).toBe(401);
});

test('a refused URL refuses the message and stores nothing', async () => {
  const guest = gateway.guest({ 'accept-language': 'de' });
  const result = await guest.execute(CHAT, { input: { content: 'read this', fileUrls: [`${base}/pixel.png`, 'http://169.254.169.254/latest/meta-data/'] } });
  expect(codeOf(result)).toBe('BAD_USER_INPUT');
  expect(result.errors![0]!.extensions).toMatchObject({ reason: 'hostNotAllowed', host: '169.254.169.254' });
  expect(result.errors![0]!.message).toContain('Positivliste');
  expect((await guest.execute('{ files { id } conversations { totalCount } }')).data).toEqual({ files: [], conversations: { totalCount: 0 } });
});

test('uploadFileFromUrl keeps the fetched bytes as a file of the caller', async () => {
  const guest = gateway.guest();
  const result = await guest.execute(/* GraphQL */ `mutation ($url: String!) { uploadFileFromUrl(url: $url) { filename mimeType size url expiresAt } }`, {
    url: `${base}/pixel.png`,
  });
  expect(result.errors).toBeUndefined();
  expect(result.data.uploadFileFromUrl).toMatchObject({ filename: 'pixel.png', mimeType: 'image/png', size: tinyPng.byteLength });
  const bytes = Buffer.from(await (await fetch(result.data.uploadFileFromUrl.url, { headers: guest.headers })).arrayBuffer());
  expect(bytes.equals(Buffer.from(tinyPng))).toBe(true);

  const refused = await guest.execute(`mutation { uploadFileFromUrl(url: "https://example.com/x.png") { id } }`);
  expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'hostNotAllowed' });
});
