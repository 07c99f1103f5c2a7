import { afterAll, beforeAll, expect, test } from 'vitest';
import { eventually, startGateway, type Gateway } from '../support/harness.js';
import { CHAT_STREAM } from '../support/operations.js';
import { docxWith, file } from './fixtures.js';

const UPLOAD = /* GraphQL */ `mutation ($file: File!) { uploadFile(file: $file) { id tokenCount } }`;

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

test("a large document is read off the event loop: another user's stream keeps receiving tokens meanwhile", async () => {
  // About 1.5 million characters of prose: parsing and counting it takes a while.
  const paragraph = 'The committee reviewed the quarterly figures and agreed to revisit the budget in spring. '.repeat(20);
  const document = await docxWith(Array.from({ length: 850 }, () => paragraph));

  gateway.upstream.behave({ tokens: 100_000, delayMs: 5 });
  let deltas = 0;
  const stream = gateway.guest().subscribe(CHAT_STREAM, { input: { content: 'Tell me a long story' } }, (data: any) => {
    if (data.chatStream.__typename === 'TokenDelta') deltas++;
  });
  await eventually(() => deltas > 0);

  const before = deltas;
  const upload = await gateway.guest().upload(UPLOAD, { file: null }, { file: file(document, 'minutes.docx') });
  const during = deltas - before;
  stream.cancel();

  expect(upload.errors).toBeUndefined();
  expect(upload.data.uploadFile.tokenCount).toBeGreaterThan(250_000);
  // Tokens kept arriving while the upload was processed; with the work on the
  // event loop the stream stalled for the whole of it.
  expect(during).toBeGreaterThanOrEqual(100);
});

test('documents uploaded at once wait for a thread and are all read', async () => {
  const guest = gateway.guest();
  const documents = await Promise.all(['First minutes.', 'Second minutes.', 'Third minutes.', 'Fourth minutes.'].map((text) => docxWith([text])));
  const results = await Promise.all(documents.map((bytes, index) => guest.upload(UPLOAD, { file: null }, { file: file(bytes, `minutes-${index}.docx`) })));
  for (const result of results) {
    expect(result.errors).toBeUndefined();
    expect(result.data.uploadFile.tokenCount).toBeGreaterThan(0);
  }
});
