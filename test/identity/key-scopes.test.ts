import { getNamedType, type GraphQLField, type GraphQLInputType, isEnumType, isInputObjectType, isListType, isNonNullType, isScalarType } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodeGlobalId } from '../../src/graphql/global-id.js';
import { en } from '../../src/graphql/messages.js';
import { schema } from '../../src/graphql/schema.js';
import { eventually, startGateway, type Caller, type Gateway, type GraphQLResponse } from '../support/harness.js';
import { SEND_MESSAGE } from '../support/operations.js';

/**
 * Mutations that need no `write` scope. Each one calls a model, so the README's
 * rule puts it under the `chat` scope instead; a read-only key is still refused.
 * Every other mutation changes state and needs `write`. There is no sign-in style
 * mutation: credentials arrive as headers, not through the schema.
 */
const chatInsteadOfWrite: Record<string, string> = {
  sendMessage: 'starts a model reply',
  chat: 'starts a model reply and waits for it',
  regenerate: 'asks the model for a new reply',
  submitBatch: 'queues model calls',
  transcribe: 'speech to text by a model',
  synthesizeSpeech: 'text to speech by a model',
  createEphemeralKey: 'opens a realtime model session',
  stopGeneration: 'stops model replies (write allows it too)',
  submitToolResults: 'continues a model reply with the results of its tool calls',
  generateImage: 'asks an image model for images',
};

const mutationType = schema.getMutationType()!;
const mutations = Object.values(mutationType.getFields());

interface Call {
  query: string;
  variables: Record<string, unknown>;
  files: Record<string, File>;
}

/** A placeholder that passes GraphQL validation; required parts only, since scopes are checked before resolvers. */
function placeholder(type: GraphQLInputType, path: string, files: Record<string, File>): unknown {
  const inner = isNonNullType(type) ? type.ofType : type;
  if (isListType(inner)) return [placeholder(inner.ofType, `${path}.0`, files)];
  if (isEnumType(inner)) return inner.getValues()[0]!.value;
  if (isInputObjectType(inner)) {
    const value: Record<string, unknown> = {};
    for (const field of Object.values(inner.getFields())) {
      if (isNonNullType(field.type) && field.defaultValue === undefined) {
        value[field.name] = placeholder(field.type, `${path}.${field.name}`, files);
      }
    }
    return value;
  }
  if (!isScalarType(inner)) throw new Error(`no placeholder for ${String(inner)}`);
  switch (inner.name) {
    case 'String':
      return 'placeholder';
    case 'Int':
    case 'Float':
      return 1;
    case 'Boolean':
      return false;
    case 'ID':
      return encodeGlobalId('Conversation', '00000000-0000-0000-0000-000000000000');
    case 'DateTime':
      return new Date(Date.now() + 86_400_000).toISOString();
    case 'JSON':
      return {};
    case 'File':
      files[path] = new File(['placeholder'], 'placeholder.txt', { type: 'text/plain' });
      return null;
    default:
      throw new Error(`no placeholder for scalar ${inner.name}; add one here`);
  }
}

function callOf(field: GraphQLField<unknown, unknown>): Call {
  const variables: Record<string, unknown> = {};
  const files: Record<string, File> = {};
  const required = field.args.filter((arg) => isNonNullType(arg.type) && arg.defaultValue === undefined);
  for (const arg of required) variables[arg.name] = placeholder(arg.type, arg.name, files);
  const declared = required.map((arg) => `$${arg.name}: ${String(arg.type)}`).join(', ');
  const passed = required.map((arg) => `${arg.name}: $${arg.name}`).join(', ');
  const selection = isScalarType(getNamedType(field.type)) || isEnumType(getNamedType(field.type)) ? '' : ' { __typename }';
  const query = `mutation Probe${declared ? `(${declared})` : ''} { ${field.name}${passed ? `(${passed})` : ''}${selection} }`;
  return { query, variables, files };
}

function call(caller: Caller, field: GraphQLField<unknown, unknown>): Promise<GraphQLResponse> {
  const { query, variables, files } = callOf(field);
  return Object.keys(files).length > 0 ? caller.upload(query, variables, files) : caller.execute(query, variables);
}

/** Refused by the scope check itself, not by a resolver further on. */
const refusedByScopes = (result: GraphQLResponse) =>
  result.errors?.length === 1 && result.errors[0]!.extensions?.code === 'FORBIDDEN' && result.errors[0]!.message === en['auth.forbidden'];

describe('API key scopes on every mutation', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    gateway = await startGateway();
  });
  afterAll(() => gateway?.close());

  test('the allow-list names mutations of the schema', () => {
    const names = mutations.map((field) => field.name);
    for (const name of Object.keys(chatInsteadOfWrite)) expect(names).toContain(name);
  });

  test('a read-only key changes nothing', async () => {
    const readOnly = await gateway.user({ tier: 'ENTERPRISE', scopes: ['read'] });
    const allowed: string[] = [];
    for (const field of mutations) {
      const result = await call(readOnly, field);
      if (!refusedByScopes(result)) allowed.push(`${field.name}: ${JSON.stringify(result.errors ?? result.data)}`);
    }
    expect(allowed).toEqual([]);
  });

  test('a key with read and chat may call models but change nothing else', async () => {
    const chatter = await gateway.user({ tier: 'ENTERPRISE', scopes: ['read', 'chat'] });
    const wrong: string[] = [];
    for (const field of mutations) {
      const result = await call(chatter, field);
      const expectRefused = !(field.name in chatInsteadOfWrite);
      // Allowed ones must reach execution: errors there carry a path, validation errors do not.
      const executed = (result.errors ?? []).every((error) => error.path?.[0] === field.name);
      if (refusedByScopes(result) !== expectRefused || !executed) wrong.push(`${field.name}: ${JSON.stringify(result.errors ?? result.data)}`);
    }
    expect(wrong).toEqual([]);
  });

  test("a read-only key cannot revoke its owner's other keys", async () => {
    const readOnly = await gateway.user({ tier: 'ENTERPRISE', scopes: ['read'] });
    const other = await gateway.app.services.admin.createApiKey(readOnly.id, { name: 'other' });
    const result = await readOnly.execute('mutation Revoke($id: ID!) { revokeApiKey(id: $id) }', { id: encodeGlobalId('ApiKey', other.id) });
    expect(refusedByScopes(result)).toBe(true);
    const stored = await gateway.app.services.db.prisma.apiKey.findUniqueOrThrow({ where: { id: other.id } });
    expect(stored.revokedAt).toBeNull();
  });

  test('a key with chat, or with write, stops its own streaming reply; a read-only key is refused', async () => {
    const owner = await gateway.user({ tier: 'ENTERPRISE', credits: 1_000_000 });
    const { admin } = gateway.app.services;
    const withKey = async (scopes: string[]) =>
      gateway.anonymous({ authorization: `Bearer ${(await admin.createApiKey(owner.id, { name: scopes.join('+'), scopes })).secret}` });
    const STOP = 'mutation ($id: ID) { stopGeneration(messageId: $id) { id } }';
    gateway.upstream.behave({ tokens: 400, delayMs: 20 });
    for (const scopes of [
      ['read', 'chat'],
      ['read', 'write'],
    ]) {
      const sent = await owner.execute(SEND_MESSAGE, { input: { content: `a long answer for ${scopes.join('+')}` } });
      const replyId = sent.data.sendMessage.replies[0].id;
      expect(refusedByScopes(await (await withKey(['read'])).execute(STOP, { id: replyId }))).toBe(true);
      const stopped = await (await withKey(scopes)).execute(STOP, { id: replyId });
      expect(stopped.errors).toBeUndefined();
      expect(stopped.data.stopGeneration).toEqual([{ id: replyId }]);
      await eventually(
        async () => (await owner.execute('query ($id: ID!) { node(id: $id) { ... on Message { status } } }', { id: replyId })).data.node.status === 'STOPPED',
      );
    }
  });

  test('a read-only key still reads', async () => {
    const readOnly = await gateway.user({ scopes: ['read'] });
    const result = await readOnly.execute('{ viewer { isGuest } conversations(first: 1) { totalCount } }');
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({ viewer: { isGuest: false }, conversations: { totalCount: 0 } });
  });
});
