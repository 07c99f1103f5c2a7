import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, type Caller, type Gateway } from '../support/harness.js';
import { CHAT, CHAT_STREAM, RENAME_CONVERSATION, SEND_MESSAGE } from '../support/operations.js';

const CREATE_MEMORY = /* GraphQL */ `mutation ($content: String!) { createMemory(content: $content) { id } }`;
const CREATE_TEMPLATE = /* GraphQL */ `mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }`;
const SUBMIT_FEEDBACK = /* GraphQL */ `mutation ($input: FeedbackInput!) { submitFeedback(input: $input) { id } }`;
const CONVERSATION = /* GraphQL */ `query ($id: ID!) { conversation(id: $id) { id title } }`;
const UPLOAD = /* GraphQL */ `mutation ($file: File!) { uploadFile(file: $file) { id } }`;

const NUL = 'a\u0000b';
const HIGH = 'a\uD800b';
const LOW = 'a\uDC00b';
const BAD = { NUL, 'a lone high surrogate': HIGH, 'a lone low surrogate': LOW };

let gateway: Gateway;
let alice: Caller & { id: string };
let conversationId: string;
let replyId: string;

beforeAll(async () => {
  gateway = await startGateway({ embeddingModel: 'fake-embed' });
  alice = await gateway.user({ tier: 'BASIC', credits: 100_000 });
  const sent = await alice.execute(CHAT, { input: { content: 'hello' } });
  conversationId = sent.data.chat.conversation.id;
  replyId = sent.data.chat.replies[0].id;
});
afterAll(() => gateway?.close());

/** The request body as JSON text, checked to carry the bad characters as escapes (the only way lone surrogates survive UTF-8). */
function jsonBody(query: string, variables: Record<string, unknown>): string {
  const body = JSON.stringify({ query, variables });
  expect(body).toMatch(/\\u0000|\\ud800|\\udc00/);
  return body;
}

async function overHttp(query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json', ...alice.headers },
    body: jsonBody(query, variables),
  });
  const body = (await response.json()) as { errors?: Array<{ message: string; extensions?: Record<string, unknown> }> };
  return { status: response.status, errors: body.errors };
}

async function overWebSocket(query: string, variables: Record<string, unknown>) {
  jsonBody(query, variables);
  const subscription = alice.subscribe(query, variables);
  await subscription.done;
  return { status: 400, errors: subscription.errors as Array<{ message: string; extensions?: Record<string, unknown> }> };
}

async function stored() {
  const { prisma } = gateway.app.services.db;
  return {
    conversations: await prisma.conversation.count(),
    messages: await prisma.message.count(),
    memories: await prisma.memory.count(),
    templates: await prisma.template.count(),
    feedback: await prisma.feedback.count(),
    files: await prisma.uploadedFile.count(),
    title: (await alice.execute(CONVERSATION, { id: conversationId })).data.conversation.title,
  };
}

function expectRefused(result: { status: number; errors?: Array<{ message: string; extensions?: Record<string, unknown> }> }, argument: string) {
  expect(result.errors).toHaveLength(1);
  expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  expect(result.errors![0]!.message).toBe(`"${argument}" holds a character that is not allowed in text (U+0000 or a lone UTF-16 surrogate).`);
  expect(result.status).toBe(400);
}

/** Every operation with a string argument, the bad text put in one of them, and the argument path the refusal names. */
const cases = (bad: string): Array<[string, string, () => Record<string, unknown>, string]> => [
  ['chat content', CHAT, () => ({ input: { content: bad } }), 'chat.input.content'],
  ['sendMessage content', SEND_MESSAGE, () => ({ input: { content: bad } }), 'sendMessage.input.content'],
  ['systemPrompt', CHAT, () => ({ input: { content: 'hi', systemPrompt: bad } }), 'chat.input.systemPrompt'],
  ['a templateVariables value', CHAT, () => ({ input: { content: 'hi', templateVariables: { topic: bad } } }), 'chat.input.templateVariables.topic'],
  [
    'a nested templateVariables value',
    CHAT,
    () => ({ input: { content: 'hi', templateVariables: { list: ['ok', { deep: bad }] } } }),
    'chat.input.templateVariables.list.1.deep',
  ],
  ['a templateVariables key', CHAT, () => ({ input: { content: 'hi', templateVariables: { [bad]: 'x' } } }), 'chat.input.templateVariables'],
  ['a history message', CHAT, () => ({ input: { content: 'hi', history: [{ role: 'USER', content: bad }] } }), 'chat.input.history.0.content'],
  ['renameConversation title', RENAME_CONVERSATION, () => ({ id: conversationId, title: bad }), 'renameConversation.title'],
  ['an id argument', RENAME_CONVERSATION, () => ({ id: bad, title: 'fine' }), 'renameConversation.id'],
  ['an id in a list', CHAT, () => ({ input: { content: 'hi', fileIds: [bad] } }), 'chat.input.fileIds.0'],
  ['createMemory content', CREATE_MEMORY, () => ({ content: bad }), 'createMemory.content'],
  ['createTemplate name', CREATE_TEMPLATE, () => ({ input: { name: bad, displayName: 'x', systemPrompt: 'x' } }), 'createTemplate.input.name'],
  [
    'createTemplate displayName',
    CREATE_TEMPLATE,
    () => ({ input: { name: 'ok_name', displayName: bad, systemPrompt: 'x' } }),
    'createTemplate.input.displayName',
  ],
  [
    'createTemplate systemPrompt',
    CREATE_TEMPLATE,
    () => ({ input: { name: 'ok_name', displayName: 'x', systemPrompt: bad } }),
    'createTemplate.input.systemPrompt',
  ],
  [
    'createTemplate description',
    CREATE_TEMPLATE,
    () => ({ input: { name: 'ok_name', displayName: 'x', systemPrompt: 'x', description: bad } }),
    'createTemplate.input.description',
  ],
  ['submitFeedback comment', SUBMIT_FEEDBACK, () => ({ input: { messageId: replyId, kind: 'THUMBS_UP', comment: bad } }), 'submitFeedback.input.comment'],
  [
    'submitFeedback details',
    SUBMIT_FEEDBACK,
    () => ({ input: { messageId: replyId, kind: 'THUMBS_UP', details: { note: bad } } }),
    'submitFeedback.input.details.note',
  ],
];

describe.each(Object.entries(BAD))('%s in a string argument is BAD_USER_INPUT naming it, and nothing is stored', (_name, bad) => {
  test.each(cases(bad))('over HTTP: %s', async (_label, query, variables, argument) => {
    const before = await stored();
    expectRefused(await overHttp(query, variables()), argument);
    expect(await stored()).toEqual(before);
  });

  test.each(cases(bad))('over graphql-ws: %s', async (_label, query, variables, argument) => {
    const before = await stored();
    expectRefused(await overWebSocket(query, variables()), argument);
    expect(await stored()).toEqual(before);
  });

  test('over graphql-ws: the chatStream subscription', async () => {
    const before = await stored();
    expectRefused(await overWebSocket(CHAT_STREAM, { input: { content: bad } }), 'chatStream.input.content');
    expectRefused(await overWebSocket(CHAT_STREAM, { input: { content: 'hi', templateVariables: { [bad]: 1 } } }), 'chatStream.input.templateVariables');
    expect(await stored()).toEqual(before);
  });
});

describe('bad text written inline in the document', () => {
  test('a NUL escape in a string literal, also inside an input object and a JSON literal', async () => {
    const before = await stored();
    const inline = async (query: string) => {
      const response = await fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...alice.headers },
        body: JSON.stringify({ query }),
      });
      return { status: response.status, errors: ((await response.json()) as { errors?: never[] }).errors };
    };
    expectRefused(await inline('mutation { createMemory(content: "a\\u0000b") { id } }'), 'createMemory.content');
    expectRefused(
      await inline('mutation { chat(input: { content: "hi", templateVariables: { topic: ["a\\u0000b"] } }) { conversation { id } } }'),
      'chat.input.templateVariables.topic.0',
    );
    // A default of a variable counts too.
    expectRefused(await inline('mutation ($content: String! = "a\\u0000b") { createMemory(content: $content) { id } }'), 'createMemory.content');
    expect(await stored()).toEqual(before);
  });

  test('a lone surrogate escape in the document is a syntax error, never INTERNAL_SERVER_ERROR', async () => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...alice.headers },
      body: JSON.stringify({ query: 'mutation { createMemory(content: "a\\ud800b") { id } }' }),
    });
    const body = (await response.json()) as { errors: Array<{ extensions?: { code?: string } }> };
    expect(body.errors[0]!.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
    expect(response.status).toBe(400);
  });
});

describe('an upload whose file name holds NUL', () => {
  /** A multipart request built by hand: FormData would rewrite the file name. */
  async function uploadNamed(filename: string, operations: object, map: object) {
    const boundary = 'x-boundary-7f3a';
    const part = (headers: string, body: string) => `--${boundary}\r\n${headers}\r\n\r\n${body}\r\n`;
    const body =
      part('Content-Disposition: form-data; name="operations"', JSON.stringify(operations)) +
      part('Content-Disposition: form-data; name="map"', JSON.stringify(map)) +
      part(`Content-Disposition: form-data; name="0"; filename="${filename}"\r\nContent-Type: text/plain`, 'plain text content') +
      `--${boundary}--\r\n`;
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'graphql-require-preflight': '1', ...alice.headers },
      body: Buffer.from(body, 'utf8'),
    });
    const text = await response.text();
    return { status: response.status, errors: (JSON.parse(text) as { errors?: never[] }).errors };
  }

  test('uploadFile and an inline attachment are BAD_USER_INPUT, and nothing is stored', async () => {
    const before = await stored();
    expectRefused(await uploadNamed('notes\u0000.txt', { query: UPLOAD, variables: { file: null } }, { 0: ['variables.file'] }), 'uploadFile.file.name');
    expectRefused(
      await uploadNamed(
        'notes\u0000.txt',
        { query: CHAT, variables: { input: { content: 'with a file', attachments: [null] } } },
        { 0: ['variables.input.attachments.0'] },
      ),
      'chat.input.attachments.0.name',
    );
    expect(await stored()).toEqual(before);
    // The same file with a valid name is accepted.
    expect((await uploadNamed('notes.txt', { query: UPLOAD, variables: { file: null } }, { 0: ['variables.file'] })).errors).toBeUndefined();
  });
});

describe('the refusal', () => {
  test('is in the language the caller asked for', async () => {
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', 'accept-language': 'fr', ...alice.headers },
      body: jsonBody(CREATE_MEMORY, { content: NUL }),
    });
    const body = (await response.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
    expect(body.errors[0]!.message).toBe('« createMemory.content » contient un caractère interdit dans un texte (U+0000 ou un demi-codet UTF-16 isolé).');
  });

  test('without credentials, a field that needs them is UNAUTHENTICATED first; a public one still names the text', async () => {
    const anonymous = (query: string, variables: Record<string, unknown>) =>
      fetch(`${gateway.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json' },
        body: jsonBody(query, variables),
      }).then((response) => response.json() as Promise<{ errors: Array<{ extensions: { code: string } }> }>);
    expect((await anonymous(CREATE_MEMORY, { content: NUL })).errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    const publicField = await anonymous(/* GraphQL */ `query ($id: ID!) { model(id: $id) { id } }`, { id: HIGH });
    expect(publicField.errors[0]!.extensions.code).toBe('BAD_USER_INPUT');
  });

  test('also ends a subscription over SSE, and nothing is stored', async () => {
    const before = await stored();
    const response = await fetch(`${gateway.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...alice.headers },
      body: jsonBody(CHAT_STREAM, { input: { content: HIGH } }),
    });
    const text = await response.text();
    expect(text).toContain('"code":"BAD_USER_INPUT"');
    expect(text).toContain('chatStream.input.content');
    expect(text).not.toContain('INTERNAL_SERVER_ERROR');
    expect(await stored()).toEqual(before);
  });
});
