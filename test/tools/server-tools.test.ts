import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { decodeGlobalId } from '../../src/graphql/global-id.js';
import { codeOf, eventually, startGateway, type Gateway } from '../support/harness.js';
import { STOP_GENERATION } from '../support/operations.js';
import { SERVER_TOOLS, startSearchEngine, TOOL_CHAT, TOOL_CHAT_STREAM, TOOL_MESSAGE_STREAM, type ToolEvent } from './tool-support.js';

const TIMEOUT_MS = 1_500;
let gateway: Gateway;
let search: Awaited<ReturnType<typeof startSearchEngine>>;

beforeAll(async () => {
  search = await startSearchEngine(6_000);
  gateway = await startGateway({ webSearchUrl: search.url, tools: { maxSteps: 3, timeoutMs: TIMEOUT_MS, outputMaxChars: 2_000 } });
});
afterAll(async () => {
  await gateway?.close();
  await search?.close();
});
beforeEach(() => gateway.upstream.reset());

const eventsOf = (data: Array<Record<string, ToolEvent>>, field: string) => data.map((item) => item[field]!);
const chatRequests = () => gateway.upstream.requests.filter((request) => request.path.endsWith('/chat/completions'));
const prisma = () => gateway.app.services.db.prisma;
const basicUser = () => gateway.user({ tier: 'BASIC', credits: 5_000_000 });
const localId = (messageId: string) => decodeGlobalId(messageId).id;

describe('serverTools', () => {
  test('lists every server tool with whether the caller may use it', async () => {
    const free = await gateway.user({ tier: 'FREE' });
    const basic = await basicUser();
    const availability = async (caller: typeof free) =>
      Object.fromEntries((await caller.execute(SERVER_TOOLS)).data.serverTools.map((tool: any) => [tool.name, tool.available]));
    expect(await availability(free)).toEqual({ web_search: false, knowledge_search: true, memory: true, fetch_url: false });
    expect(await availability(basic)).toEqual({ web_search: true, knowledge_search: true, memory: true, fetch_url: false });
    const listed = (await basic.execute(SERVER_TOOLS)).data.serverTools[0];
    expect(listed.parameters).toMatchObject({ type: 'object', required: ['query'] });

    const refused = await free.execute(TOOL_CHAT, { input: { content: 'web_search tides', serverTools: ['web_search'] } });
    expect(codeOf(refused)).toBe('FORBIDDEN');
    const unknown = await basic.execute(TOOL_CHAT, { input: { content: 'hi', serverTools: ['teleport'] } });
    expect(codeOf(unknown)).toBe('BAD_USER_INPUT');
  });
});

describe('the tool loop', () => {
  test('several tools in one step run, their results reach the model, and each step is charged and recorded', async () => {
    const alice = await basicUser();
    const events = eventsOf(
      await alice.subscribe(TOOL_CHAT_STREAM, { input: { content: 'web_search and memory: tides', serverTools: ['web_search', 'memory'] } }).done,
      'chatStream',
    );
    const kinds = events.map((event) => event.__typename);
    expect(kinds.filter((kind) => kind === 'ToolCallEvent')).toHaveLength(2);
    expect(kinds.filter((kind) => kind === 'ToolResultEvent')).toHaveLength(2);
    // Each seq once and in order (deltas waiting for a follower that fell behind arrive merged, under the last one's seq).
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const results = Object.fromEntries(events.filter((event) => event.__typename === 'ToolResultEvent').map((event) => [event.toolCallId, event.result]));
    const calls = events.filter((event) => event.__typename === 'ToolCallEvent').map((event) => event.toolCall!);
    const searchCall = calls.find((call) => call.name === 'web_search')!;
    expect(results[searchCall.id]).toContain('Everything on web_search and memory: tides.');
    expect(results[calls.find((call) => call.name === 'memory')!.id]).toBe('Saved.');

    const finished = events.at(-1)!.message;
    expect(finished.status).toBe('COMPLETE');
    expect(finished.content).toContain('Tool results: ');
    expect(finished.toolCalls.map((call: any) => call.result)).toEqual(calls.map((call) => results[call.id]));
    expect(chatRequests()).toHaveLength(2);
    expect(chatRequests()[1]!.body.messages.at(-1).role).toBe('tool');

    const memories = await alice.execute(/* GraphQL */ `{ memories(first: 5) { edges { node { content } } } }`);
    expect(memories.data.memories.edges.map((edge: any) => edge.node.content)).toEqual(['web_search and memory: tides']);
    const id = localId(finished.id);
    const usage = await prisma().usageEvent.findMany({ where: { messageId: id }, orderBy: { action: 'asc' } });
    expect(usage.map((row) => row.action).sort()).toEqual(['CHAT', 'TOOL']);
    expect(usage.reduce((sum, row) => sum + row.cost, 0)).toBeCloseTo(finished.usage.cost, 12);
  });

  test('a tool that does not answer in time is an error result the model sees', async () => {
    const alice = await basicUser();
    const result = await alice.execute(TOOL_CHAT, { input: { content: 'web_search something slow', serverTools: ['web_search'] } });
    const reply = result.data.chat.replies[0];
    expect(reply.status).toBe('COMPLETE');
    expect(reply.toolCalls[0].result).toBe(`Error: web_search did not answer within ${TIMEOUT_MS} ms.`);
    expect(chatRequests().at(-1)!.body.messages.at(-1)).toMatchObject({ role: 'tool', content: reply.toolCalls[0].result });
  });

  test('a model that keeps calling tools is cut off at MAX_TOOL_STEPS and must answer', async () => {
    const alice = await basicUser();
    gateway.upstream.behave({ toolCalls: [{ name: 'web_search', arguments: '{"query":"again"}' }] });
    const result = await alice.execute(TOOL_CHAT, { input: { content: 'loop forever', serverTools: ['web_search'] } });
    const reply = result.data.chat.replies[0];
    expect(chatRequests().map((request) => request.body.tool_choice)).toEqual([undefined, undefined, 'none']);
    expect(reply.status).toBe('COMPLETE');
    expect(reply.toolCalls).toHaveLength(2);
    expect(new Set(reply.toolCalls.map((call: any) => call.id)).size).toBe(2);
    const usage = await prisma().usageEvent.findMany({ where: { messageId: localId(reply.id) } });
    expect(usage.map((row) => row.action).sort()).toEqual(['CHAT', 'TOOL', 'TOOL']);
  });

  test('a stop in the middle of a tool run keeps what ran and charges once', async () => {
    const alice = await basicUser();
    gateway.upstream.behave({
      toolCalls: [
        { name: 'web_search', arguments: '{"query":"fast"}' },
        { name: 'web_search', arguments: '{"query":"slow"}' },
      ],
    });
    const before = await prisma().user.findUniqueOrThrow({ where: { id: alice.id } });
    let stopped: Promise<unknown> | undefined;
    const subscription = alice.subscribe(TOOL_CHAT_STREAM, { input: { content: 'search twice', serverTools: ['web_search'] } }, (data: any) => {
      if (data.chatStream.__typename === 'ToolResultEvent' && !stopped) stopped = alice.execute(STOP_GENERATION, { messageId: data.chatStream.messageId });
    });
    const events = eventsOf(await subscription.done, 'chatStream');
    await stopped;
    const finished = events.at(-1)!.message;
    expect(finished.status).toBe('STOPPED');
    const [fast, slow] = finished.toolCalls;
    expect(fast.result).toContain('Everything on fast.');
    expect(slow.result).toBeNull();
    expect(chatRequests()).toHaveLength(1);

    const id = localId(finished.id);
    const ledger = await prisma().creditLedgerEntry.findMany({ where: { reference: id } });
    expect(ledger.map((entry) => entry.kind).sort()).toEqual(['refund', 'reserve']);
    const after = await eventually(async () => {
      const user = await prisma().user.findUniqueOrThrow({ where: { id: alice.id } });
      return user.creditBalance !== before.creditBalance ? user.creditBalance : null;
    });
    expect(before.creditBalance - after).toBe(Math.ceil(finished.usage.cost * 1_000_000 - 1e-9));
    expect(await prisma().usageEvent.count({ where: { messageId: id } })).toBe(1);
  });

  test('reconnecting with after in the middle of a loop misses nothing and repeats nothing', async () => {
    const alice = await basicUser();
    gateway.upstream.behave({ delayMs: 5, toolCalls: [{ name: 'web_search', arguments: '{"query":"slowish slow"}' }] });
    let firstCall: ToolEvent | undefined;
    const first = alice.subscribe(TOOL_CHAT_STREAM, { input: { content: 'search once', serverTools: ['web_search'] } }, (data: any) => {
      if (data.chatStream.__typename === 'ToolCallEvent' && !firstCall) firstCall = data.chatStream;
    });
    const call = await eventually(() => firstCall);
    first.cancel();
    const rest = eventsOf(await alice.subscribe(TOOL_MESSAGE_STREAM, { messageId: call.messageId, after: call.seq }).done, 'messageStream');
    expect(rest[0]!.seq).toBe(call.seq + 1);
    expect(rest.map((event) => event.seq)).toEqual(rest.map((_, index) => call.seq + 1 + index));
    expect(rest.some((event) => event.__typename === 'ToolResultEvent' && event.toolCallId === call.toolCall!.id)).toBe(true);
    const all = eventsOf(await alice.subscribe(TOOL_MESSAGE_STREAM, { messageId: call.messageId, after: 0 }).done, 'messageStream');
    expect(all.slice(call.seq)).toEqual(rest);
  });

  test('the loop stops when the next model call could cost more than the reply reserved', async () => {
    const small = await startGateway({
      webSearchUrl: search.url,
      maxOutputTokensPerReply: 10,
      tools: { maxSteps: 3, timeoutMs: TIMEOUT_MS, outputMaxChars: 2_000 },
    });
    try {
      const alice = await small.user({ tier: 'BASIC', credits: 5_000_000 });
      small.upstream.behave({ toolCalls: [{ name: 'web_search', arguments: '{"query":"long"}' }] });
      const result = await alice.execute(TOOL_CHAT, { input: { content: 'search at length', serverTools: ['web_search'] } });
      const reply = result.data.chat.replies[0];
      expect(reply.status).toBe('COMPLETE');
      expect(reply.error.code).toBe('TOOL_BUDGET_EXHAUSTED');
      expect(reply.toolCalls[0].result).toContain('word word');
      expect(small.upstream.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(1);
      const id = localId(reply.id);
      const reserve = await small.app.services.db.prisma.creditLedgerEntry.findFirstOrThrow({ where: { reference: id, kind: 'reserve' } });
      const user = await small.app.services.db.prisma.user.findUniqueOrThrow({ where: { id: alice.id } });
      expect(5_000_000 - user.creditBalance).toBeLessThanOrEqual(-reserve.delta);
      expect(5_000_000 - user.creditBalance).toBe(Math.ceil(reply.usage.cost * 1_000_000 - 1e-9));
    } finally {
      await small.close();
    }
  });
});
