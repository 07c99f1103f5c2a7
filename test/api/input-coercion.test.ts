import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startGateway, type Caller, type Gateway, type GraphQLResponse } from '../support/harness.js';

// Variables of the wrong type are the caller's mistake: BAD_USER_INPUT (HTTP 400) with the
// reason graphql-js gives, over HTTP and graphql-ws alike, never an uncoded or internal error.
let gateway: Gateway;
let user: Caller & { id: string };
beforeAll(async () => {
  gateway = await startGateway();
  user = await gateway.user({ tier: 'ENTERPRISE', credits: 100_000 });
});
afterAll(() => gateway?.close());

async function overSocket(caller: Caller, query: string, variables: Record<string, unknown>): Promise<GraphQLResponse> {
  return new Promise((resolve) => {
    let answer: GraphQLResponse = { status: 0, headers: new Headers() };
    caller.ws().subscribe(
      { query, variables },
      {
        next: (value) => (answer = { ...answer, data: value.data, errors: value.errors as GraphQLResponse['errors'] }),
        error: (error) => resolve({ ...answer, errors: Array.isArray(error) ? error : [{ message: String(error) }] }),
        complete: () => resolve(answer),
      },
    );
  });
}

const wrongTypes: Array<[string, string, Record<string, unknown>, RegExp]> = [
  ['a boolean for an ID', 'mutation ($id: ID!) { deleteConversation(id: $id) }', { id: true }, /ID cannot represent value: true/],
  ['null for a required ID', 'mutation ($id: ID!) { deleteTemplate(id: $id) }', { id: null }, /must not be null/],
  [
    'a number for a String field of an input',
    'mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }',
    { input: { name: 'a', displayName: 'A', systemPrompt: 7 } },
    /String cannot represent/,
  ],
  [
    'an Int past 32 bits',
    'query ($first: Int) { conversations(first: $first) { totalCount } }',
    { first: 2 ** 31 },
    /Int cannot represent non 32-bit signed integer/,
  ],
  [
    'an unknown enum value',
    'mutation ($input: FeedbackInput!) { submitFeedback(input: $input) { id } }',
    { input: { messageId: 'x', kind: 'NOPE' } },
    /does not exist in "FeedbackKind" enum/,
  ],
  [
    'a date that is no date',
    'mutation ($at: DateTime) { createApiKey(name: "k", expiresAt: $at) { secret } }',
    { at: '2026-13-45T00:00:00Z' },
    /DateTime cannot represent/,
  ],
];

describe('variables of the wrong type', () => {
  test.each(wrongTypes)('%s is BAD_USER_INPUT over HTTP and graphql-ws', async (_name, query, variables, reason) => {
    const overHttp = await user.execute(query, variables);
    expect(overHttp.status).toBe(400);
    expect(overHttp.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(reason), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);
    const socket = await overSocket(user, query, variables);
    expect(socket.errors).toEqual([
      expect.objectContaining({ message: expect.stringMatching(reason), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
    ]);
  });
});

describe('a File argument that is not an upload', () => {
  const notFiles: Array<[string, string, (value: unknown) => Record<string, unknown>]> = [
    ['transcribe', 'mutation ($audio: File!) { transcribe(audio: $audio) { text } }', (value) => ({ audio: value })],
    ['uploadFile', 'mutation ($file: File!) { uploadFile(file: $file) { id } }', (value) => ({ file: value })],
    [
      'sendMessage attachments',
      'mutation ($input: SendMessageInput!) { sendMessage(input: $input) { userMessage { id } } }',
      (value) => ({ input: { content: 'hi', attachments: [value] } }),
    ],
  ];
  test.each(notFiles)('%s: a string, a number or an object is BAD_USER_INPUT, and nothing is stored', async (_name, query, variablesOf) => {
    for (const value of ['not a file', 42, { name: 'a.mp3', size: 3 }]) {
      for (const result of [await user.execute(query, variablesOf(value)), await overSocket(user, query, variablesOf(value))]) {
        expect(result.errors).toEqual([
          expect.objectContaining({ message: expect.stringMatching(/File expects a file/), extensions: expect.objectContaining({ code: 'BAD_USER_INPUT' }) }),
        ]);
      }
    }
    const prisma = gateway.app.services.db.prisma;
    expect(await prisma.uploadedFile.count({ where: { ownerId: user.id } })).toBe(0);
    expect(await prisma.conversation.count({ where: { ownerId: user.id } })).toBe(0);
  });

  test('a File written into the document fails validation', async () => {
    const result = await user.execute('mutation { uploadFile(file: "inline") { id } }');
    expect(result.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });
});
