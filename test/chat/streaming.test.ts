import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { eventually, startGateway, type Gateway } from '../support/harness.js';
import { CHAT, CHAT_STREAM, CONVERSATION_EVENTS, MESSAGE, MESSAGE_STREAM, SEND_MESSAGE, STOP_GENERATION } from '../support/operations.js';

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await gateway?.close();
});
beforeEach(() => gateway.upstream.reset());

type Event = { __typename: string; messageId: string; seq: number; delta?: string; message?: any };
const eventsOf = (data: Array<Record<string, Event>>, field: string) => data.map((item) => item[field]!);
const deltas = (events: Event[]) =>
  events
    .filter((event) => event.__typename === 'TokenDelta')
    .map((event) => event.delta)
    .join('');

describe('chatStream', () => {
  test('streams ordered deltas whose concatenation is the stored reply', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 12, delayMs: 2 });
    const events = eventsOf(await alice.subscribe(CHAT_STREAM, { input: { content: 'Tell me a story' } }).done, 'chatStream');

    // Each seq once and in order, ending with the 13th (tokens waiting for a follower that fell behind arrive merged).
    const seqs = events.map((event) => event.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(13);
    const finished = events.at(-1)!;
    expect(finished.__typename).toBe('MessageFinished');
    expect(finished.message.status).toBe('COMPLETE');
    expect(finished.message.content).toBe(deltas(events));
    expect(finished.message.content).toBe('tok1 tok2 tok3 tok4 tok5 tok6 tok7 tok8 tok9 tok10 tok11 tok12 ');

    const stored = await alice.execute(MESSAGE, { id: finished.messageId });
    expect(stored.data.node.content).toBe(deltas(events));
  });

  test('stores usage from the provider, with latency and time to first token', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 5 });
    const result = await alice.execute(CHAT, { input: { content: 'count to five' } });
    const reply = result.data.chat.replies[0];
    const sent = gateway.upstream.requests.at(-1)!;
    expect(sent.body.stream_options).toEqual({ include_usage: true });
    expect(reply.usage.outputTokens).toBe(5);
    expect(reply.usage.inputTokens).toBeGreaterThan(0);
    expect(reply.usage.cost).toBeCloseTo((reply.usage.inputTokens * 1 + 5 * 2) / 1_000_000, 12);
    expect(reply.usage.timeToFirstTokenMs).toBeGreaterThanOrEqual(0);
    expect(reply.usage.latencyMs).toBeGreaterThanOrEqual(reply.usage.timeToFirstTokenMs);
  });

  test('without provider usage, tokens are counted from what was sent and produced', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 4, usage: false });
    const result = await alice.execute(CHAT, { input: { content: 'no usage please' } });
    const reply = result.data.chat.replies[0];
    expect(reply.status).toBe('COMPLETE');
    expect(reply.usage.outputTokens).toBeGreaterThan(0);
    expect(reply.usage.inputTokens).toBeGreaterThan(0);
  });

  test('two models answer side by side, each streamed and stored', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ delayMs: 2 });
    const events = eventsOf(await alice.subscribe(CHAT_STREAM, { input: { content: 'compare yourselves', models: ['fake-a', 'fake-b'] } }).done, 'chatStream');
    const byMessage = new Map<string, Event[]>();
    for (const event of events) byMessage.set(event.messageId, [...(byMessage.get(event.messageId) ?? []), event]);
    expect(byMessage.size).toBe(2);
    const finals = events.filter((event) => event.__typename === 'MessageFinished').map((event) => event.message);
    expect(finals.map((message) => message.model.id).sort()).toEqual(['fake-a', 'fake-b']);
    for (const [, own] of byMessage) {
      expect(own.map((event) => event.seq)).toEqual(own.map((_, index) => index + 1));
      const final = own.at(-1)!.message;
      expect(final.content).toBe(deltas(own));
      expect(final.content).toContain(`Demo reply from ${final.model.id}`);
    }
    expect(gateway.upstream.requests.map((request) => request.body.model).sort()).toEqual(['fake-a', 'fake-b']);
  });
});

describe('tool calls', () => {
  test('tool calls the model makes arrive as events and are stored on the reply', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 2, toolCalls: [{ name: 'get_weather', arguments: '{"city":"Lisbon"}' }] });
    const events = eventsOf(await alice.subscribe(CHAT_STREAM, { input: { content: 'weather in Lisbon?' } }).done, 'chatStream');
    expect(events.map((event) => event.__typename)).toEqual(['TokenDelta', 'TokenDelta', 'ToolCallEvent', 'MessageFinished']);
    const call = (events[2] as any).toolCall;
    expect(call).toEqual({ id: 'call_0', name: 'get_weather', arguments: '{"city":"Lisbon"}' });
    const stored = await alice.execute(/* GraphQL */ `query ($id: ID!) { node(id: $id) { ... on Message { toolCalls { id name arguments result } } } }`, {
      id: events[0]!.messageId,
    });
    expect(stored.data.node.toolCalls).toEqual([{ ...call, result: null }]);
  });
});

describe('messageStream', () => {
  test('two subscribers of one reply see the same events', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 20, delayMs: 5 });
    const sent = await alice.execute(SEND_MESSAGE, { input: { content: 'hello' } });
    const reply = sent.data.sendMessage.replies[0];
    expect(reply.status).toBe('STREAMING');
    const tabOne = alice.subscribe(MESSAGE_STREAM, { messageId: reply.id });
    const tabTwo = gateway.guest(alice.headers).subscribe(MESSAGE_STREAM, { messageId: reply.id });
    const [one, two] = await Promise.all([tabOne.done, tabTwo.done]);
    // The same reply, whole, to both (each may get waiting tokens merged differently).
    const [first, second] = [eventsOf(one, 'messageStream'), eventsOf(two, 'messageStream')];
    expect(deltas(first)).toBe(deltas(second));
    expect(first.at(-1)).toEqual(second.at(-1));
    expect(first.at(-1)!.seq).toBe(21);
    expect(first.at(-1)!.message.content).toBe(deltas(first));
  });

  test('reconnecting with after: seq misses nothing and repeats nothing', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 40, delayMs: 5 });
    const sent = await alice.execute(SEND_MESSAGE, { input: { content: 'long answer please' } });
    const messageId = sent.data.sendMessage.replies[0].id;

    const firstPart: Event[] = [];
    const first = alice.subscribe(MESSAGE_STREAM, { messageId }, (data: any) => firstPart.push(data.messageStream));
    await eventually(() => firstPart.length >= 7);
    first.cancel();
    const lastSeen = firstPart.at(-1)!.seq;

    const rest = eventsOf(await gateway.guest(alice.headers).subscribe(MESSAGE_STREAM, { messageId, after: lastSeen }).done, 'messageStream');
    expect(rest[0]!.seq).toBeGreaterThan(lastSeen);
    const all = [...firstPart, ...rest];
    const seqs = all.map((event) => event.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(seqs.at(-1)).toBe(41);
    expect(rest.at(-1)!.message.content).toBe(deltas(all));
  });

  test('a subscriber that leaves while the provider is silent is let go at once, not at the next token', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 2, firstTokenDelayMs: 4_000 });
    const sent = await alice.execute(SEND_MESSAGE, { input: { content: 'think long' } });
    const messageId = sent.data.sendMessage.replies[0].id;
    const chat = gateway.app.services.chat;
    const before = chat.followerCount();
    const tab = alice.subscribe(MESSAGE_STREAM, { messageId });
    await eventually(() => chat.followerCount() > before);
    tab.cancel();
    await eventually(() => chat.followerCount() === before, 3_000);
    // Let go before the first token, which is when a waiting generator would have noticed.
    const reply = (await alice.execute(MESSAGE, { id: messageId })).data.node;
    expect(reply).toMatchObject({ status: 'STREAMING', content: '' });
    await alice.execute(STOP_GENERATION, { messageId });
  });

  test('a finished reply replays from the log, and after the last seq completes at once', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 3 });
    const result = await alice.execute(CHAT, { input: { content: 'quick' } });
    const messageId = result.data.chat.replies[0].id;
    const replay = eventsOf(await alice.subscribe(MESSAGE_STREAM, { messageId }).done, 'messageStream');
    expect(replay.map((event) => event.seq)).toEqual([1, 2, 3, 4]);
    const nothing = await alice.subscribe(MESSAGE_STREAM, { messageId, after: 4 }).done;
    expect(nothing).toEqual([]);
  });

  test('another caller cannot follow the reply', async () => {
    const alice = gateway.guest();
    const result = await alice.execute(CHAT, { input: { content: 'private' } });
    const subscription = gateway.guest().subscribe(MESSAGE_STREAM, { messageId: result.data.chat.replies[0].id });
    await subscription.done;
    expect(subscription.events).toEqual([]);
    expect((subscription.errors[0] as any).extensions.code).toBe('NOT_FOUND');
  });
});

describe('conversationEvents', () => {
  test('follows every reply of a conversation, from another tab', async () => {
    const alice = gateway.guest();
    const first = await alice.execute(CHAT, { input: { content: 'start' } });
    const conversationId = first.data.chat.conversation.id;
    const seen: Event[] = [];
    const tab = alice.subscribe(CONVERSATION_EVENTS, { conversationId }, (data: any) => seen.push(data.conversationEvents));
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the subscription start
    gateway.upstream.behave({ tokens: 4, delayMs: 2 });
    await alice.execute(SEND_MESSAGE, { input: { conversationId, content: 'both of you', models: ['fake-a', 'fake-b'] } });
    await eventually(() => seen.filter((event) => event.__typename === 'MessageFinished').length === 2);
    tab.cancel();
    expect(new Set(seen.map((event) => event.messageId)).size).toBe(2);
    expect(seen.filter((event) => event.__typename === 'TokenDelta')).toHaveLength(8);
  });
});

describe('stop and failures', () => {
  test('stopGeneration aborts the upstream request and stores the partial text as STOPPED', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 200, delayMs: 20 });
    const sent = await alice.execute(SEND_MESSAGE, { input: { content: 'go on forever' } });
    const messageId = sent.data.sendMessage.replies[0].id;
    const received: Event[] = [];
    const stream = alice.subscribe(MESSAGE_STREAM, { messageId }, (data: any) => received.push(data.messageStream));
    await eventually(() => received.length >= 3);

    const stopped = await alice.execute(STOP_GENERATION, { messageId });
    const message = stopped.data.stopGeneration[0];
    expect(message.status).toBe('STOPPED');
    const events = eventsOf(await stream.done, 'messageStream');
    expect(events.at(-1)!.message.status).toBe('STOPPED');
    expect(message.content).toBe(deltas(events));
    expect(message.content.length).toBeGreaterThan(0);
    expect(message.content).not.toContain('tok200');
    expect(message.usage.outputTokens).toBeGreaterThan(0);
    await eventually(() => gateway.upstream.openStreams() === 0);
  });

  test('stopping a whole conversation stops every reply still streaming', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 200, delayMs: 20 });
    const sent = await alice.execute(SEND_MESSAGE, { input: { content: 'two long ones', models: ['fake-a', 'fake-b'] } });
    await eventually(() => gateway.upstream.openStreams() === 2);
    const stopped = await alice.execute(STOP_GENERATION, { conversationId: sent.data.sendMessage.conversation.id });
    expect(stopped.data.stopGeneration.map((message: any) => message.status)).toEqual(['STOPPED', 'STOPPED']);
  });

  test('an upstream HTTP 500 stores the reply as FAILED with the error', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ failStatus: 500 });
    const result = await alice.execute(CHAT, { input: { content: 'fail please' } });
    const reply = result.data.chat.replies[0];
    expect(reply.status).toBe('FAILED');
    expect(reply.error.code).toBe('PROVIDER_ERROR');
    expect(reply.error.message).toContain('500');
    expect(reply.content).toBe('');
  });

  test('a dropped upstream stream keeps the partial text as FAILED', async () => {
    const alice = gateway.guest();
    gateway.upstream.behave({ tokens: 50, disconnectAfter: 5, delayMs: 10 });
    const events = eventsOf(await alice.subscribe(CHAT_STREAM, { input: { content: 'drop me' } }).done, 'chatStream');
    const final = events.at(-1)!.message;
    expect(final.status).toBe('FAILED');
    expect(final.error.code).toBe('STREAM_INTERRUPTED');
    expect(final.content).toBe('tok1 tok2 tok3 tok4 tok5 ');
    expect(final.content).toBe(deltas(events));
  });
});

describe('storage cost of streaming', () => {
  test('a 500-token reply costs a bounded number of database writes', async () => {
    const alice = gateway.guest();
    const writesFor = async (behaviour: Parameters<Gateway['upstream']['behave']>[0]) => {
      gateway.upstream.behave(behaviour);
      const before = gateway.app.services.db.statements.writes;
      const startedAt = Date.now();
      const result = await alice.execute(CHAT, { input: { content: 'count the writes' } });
      return { writes: gateway.app.services.db.statements.writes - before, durationMs: Date.now() - startedAt, reply: result.data.chat.replies[0] };
    };
    await writesFor({ tokens: 1 }); // warm up
    // The fixed bookkeeping of one turn: messages, credits, conversation, final write, usage.
    const oneToken = await writesFor({ tokens: 1 });
    const long = await writesFor({ tokens: 500, delayMs: 1 });
    expect(long.reply.usage.outputTokens).toBe(500);
    const flushIntervalMs = gateway.app.services.config.flushIntervalMs;
    // Streaming adds at most one write per flush interval, never one per token.
    expect(long.writes - oneToken.writes).toBeLessThanOrEqual(Math.ceil(long.durationMs / flushIntervalMs) + 1);
    expect(long.writes).toBeLessThan(25);
  });
});

describe('flush budget', () => {
  // Four replies of about a second each, together, on a gateway that would flush each every 50 ms.
  const streamingWritesOf = async (flushesPerSecond: number) => {
    const budgeted = await startGateway({ flushIntervalMs: 50, flushesPerSecond });
    try {
      const alice = budgeted.guest();
      const writesFor = async (behaviour: Parameters<Gateway['upstream']['behave']>[0]) => {
        budgeted.upstream.behave(behaviour);
        const before = budgeted.app.services.db.statements.writes;
        const startedAt = Date.now();
        const results = await Promise.all([1, 2, 3, 4].map((n) => alice.execute(CHAT, { input: { content: `reply ${n}` } })));
        const replies = results.map((result) => result.data.chat.replies[0]);
        return { writes: budgeted.app.services.db.statements.writes - before, seconds: (Date.now() - startedAt) / 1000, replies };
      };
      await writesFor({ tokens: 1 }); // warm up
      const bookkeeping = await writesFor({ tokens: 1 });
      const long = await writesFor({ tokens: 60, delayMs: 20 });
      return { streaming: long.writes - bookkeeping.writes, seconds: long.seconds, replies: long.replies };
    } finally {
      await budgeted.close();
    }
  };

  test('replies streaming together share the flushes per second, and each is still stored whole', async () => {
    const limited = await streamingWritesOf(4);
    for (const reply of limited.replies) {
      expect(reply.status).toBe('COMPLETE');
      expect(reply.content.split(' ').filter(Boolean)).toHaveLength(60);
    }
    // Four per second across the four replies, and one more per reply for where its ticks fall.
    expect(limited.streaming).toBeLessThanOrEqual(Math.ceil(4 * limited.seconds) + 4);

    const unlimited = await streamingWritesOf(0);
    // Without the budget each reply flushes every 50 ms: many times as many writes.
    expect(unlimited.streaming).toBeGreaterThan(3 * (Math.ceil(4 * unlimited.seconds) + 4));
  });
});
