import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { defaultUpstreamPolicy } from '../../src/lib/llm/upstream-policy.js';
import { countTokens } from '../../src/lib/tokens.js';
import { cases, fixture } from '../fixtures/provider-streams/expected.js';
import { type Gateway, startGateway } from '../support/harness.js';

// Every recorded-style provider stream, replayed over real HTTP through the
// gateway: what a client is streamed, what is stored, and what is billed.
let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway({ upstream: { ...defaultUpstreamPolicy, retryBaseMs: 5, firstTokenTimeoutMs: 400, idleTimeoutMs: 400 } });
});
afterAll(() => gateway?.close());
beforeEach(() => gateway.upstream.reset());

const CHAT_STREAM_WITH_REASONING = /* GraphQL */ `
  subscription ReplayedStream($input: SendMessageInput!) {
    chatStream(input: $input) {
      __typename
      seq
      ... on TokenDelta { delta }
      ... on ReasoningDelta { delta }
      ... on ToolCallEvent { toolCall { id name arguments } }
      ... on MessageFinished {
        message {
          id status content reasoning
          toolCalls { id name arguments }
          error { code }
          usage { inputTokens outputTokens reasoningTokens cachedInputTokens timeToFirstTokenMs timeToFirstReasoningMs }
        }
      }
    }
  }
`;

const joined = (events: any[], type: string) =>
  events
    .filter((event) => event.__typename === type)
    .map((event) => event.delta)
    .join('');
const wellFormed = (text: string) => (text as string & { isWellFormed(): boolean }).isWellFormed() && !text.includes('\0');

async function stream(options: { tier?: 'PRO' } = {}) {
  const user = await gateway.user({ tier: options.tier ?? 'PRO', credits: 1_000_000 });
  const events = (await user.subscribe(CHAT_STREAM_WITH_REASONING, { input: { content: 'replay it', models: ['fake-a'] } }).done).map(
    (data: any) => data.chatStream,
  );
  return { user, events, message: events.at(-1).message };
}

describe.each(Object.entries(cases))('%s through the gateway', (name, expected) => {
  test('streams answer, thinking and tool calls in seq order, stores them, and bills the provider usage', async () => {
    gateway.upstream.behave({ replay: fixture(name) });
    const { events, message } = await stream();
    // Each seq once and in order (a follower that fell behind gets waiting tokens as one delta).
    expect(events.every((event, index) => index === 0 || event.seq > events[index - 1].seq)).toBe(true);
    expect(events.at(-1).__typename).toBe('MessageFinished');
    expect(joined(events, 'TokenDelta')).toBe(expected.text);
    expect(joined(events, 'ReasoningDelta')).toBe(expected.reasoning ?? '');
    const calls = events.filter((event) => event.__typename === 'ToolCallEvent').map((event) => event.toolCall);
    expect(calls).toEqual(expected.toolCalls ?? []);
    for (const call of calls) if (call.arguments) expect(() => JSON.parse(call.arguments)).not.toThrow();

    expect(message).toMatchObject({ status: 'COMPLETE', content: expected.text, reasoning: expected.reasoning ?? '', error: null });
    expect(message.toolCalls).toEqual(expected.toolCalls ?? []);
    expect(wellFormed(message.content) && wellFormed(message.reasoning)).toBe(true);
    if (expected.usage) {
      expect(message.usage).toMatchObject({
        inputTokens: expected.usage.inputTokens,
        outputTokens: expected.usage.outputTokens,
        reasoningTokens: expected.usage.reasoningTokens,
        cachedInputTokens: expected.usage.cachedInputTokens,
      });
    } else {
      // No usage from the provider: the gateway counts what it received.
      expect(message.usage.outputTokens).toBe(countTokens(expected.text + (expected.reasoning ?? ''), 'fake-a'));
    }
    if (expected.reasoning) expect(message.usage.timeToFirstReasoningMs).not.toBeNull();
    if (expected.text) expect(message.usage.timeToFirstTokenMs).not.toBeNull();
  });
});

describe('reasoning is liveness', () => {
  test('a model that thinks for longer than the first-token timeout is neither cut off nor retried', async () => {
    // 8 thoughts 120 ms apart: the answer's first token comes well after the 400 ms first-token timeout.
    gateway.upstream.behave({ thinking: 8, thinkingDelayMs: 120, tokens: 3 });
    const { events, message } = await stream();
    expect(gateway.upstream.requests.filter((request) => request.path.endsWith('/chat/completions'))).toHaveLength(1);
    expect(message.status).toBe('COMPLETE');
    expect(joined(events, 'ReasoningDelta')).toBe('think1 think2 think3 think4 think5 think6 think7 think8 ');
    expect(message.content).toBe('tok1 tok2 tok3 ');
    expect(message.usage.reasoningTokens).toBe(8);
    expect(message.usage.timeToFirstReasoningMs).toBeLessThan(message.usage.timeToFirstTokenMs);
  });

  test('silence after thinking still times out as idle, keeping the thinking', async () => {
    gateway.upstream.behave({ thinking: 2, tokens: 5, stallAfter: 0 });
    const { message } = await stream();
    expect(message).toMatchObject({ status: 'FAILED', reasoning: 'think1 think2 ', content: '', error: { code: 'UPSTREAM_TIMEOUT' } });
  });
});

describe('reasoning as part of a reply', () => {
  test('a follower reconnecting with after: seq gets the rest of the thinking and the answer', async () => {
    gateway.upstream.behave({ thinking: 4, tokens: 3 });
    const { user, message } = await stream();
    const replayed = (
      await user.subscribe(
        `subscription ($id: ID!) { messageStream(messageId: $id, after: 2) { __typename seq ... on ReasoningDelta { delta } ... on TokenDelta { delta } } }`,
        { id: message.id },
      ).done
    ).map((data: any) => data.messageStream);
    expect(replayed.map((event: any) => [event.__typename, event.seq])).toEqual([
      ['ReasoningDelta', 3],
      ['ReasoningDelta', 4],
      ['TokenDelta', 5],
      ['TokenDelta', 6],
      ['TokenDelta', 7],
      ['MessageFinished', 8],
    ]);
    expect(joined(replayed, 'ReasoningDelta')).toBe('think3 think4 ');
  });

  test('in an encrypted conversation the thinking is sealed at rest like the answer', async () => {
    const user = await gateway.user({ tier: 'PRO', credits: 1_000_000 });
    gateway.upstream.behave({ thinking: 3, reply: 'The code is safe.' });
    const secret = 'correct horse battery staple';
    const chat = await user.execute(`mutation ($input: SendMessageInput!) { chat(input: $input) { replies { id status content reasoning } } }`, {
      input: { content: 'think about LOCKER-77', models: ['fake-private'], secret },
    });
    expect(chat.errors).toBeUndefined();
    expect(chat.data.chat.replies[0]).toMatchObject({ status: 'COMPLETE', content: 'The code is safe.', reasoning: 'think1 think2 think3 ' });
    const stored = await gateway.app.services.db.prisma.message.findFirstOrThrow({ where: { role: 'ASSISTANT', conversation: { ownerId: user.id } } });
    expect(stored.reasoning).not.toContain('think');
    expect(stored.reasoning.length).toBeGreaterThan(0);
    const withoutSecret = await user.execute(`query ($id: ID!) { node(id: $id) { ... on Message { reasoning } } }`, { id: chat.data.chat.replies[0].id });
    expect(withoutSecret.data.node.reasoning).toBe('');
  });
});
