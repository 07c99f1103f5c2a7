import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { codeOf, startGateway, type Gateway } from '../support/harness.js';
import { MESSAGE, REGENERATE } from '../support/operations.js';
import { SUBMIT_TOOL_RESULTS, TOOL_CHAT, TOOL_CHAT_STREAM, TOOL_MESSAGE_STREAM, type ToolEvent, WEATHER_TOOL } from './tool-support.js';

let gateway: Gateway;

beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(async () => {
  await gateway?.close();
});
beforeEach(() => gateway.upstream.reset());

const eventsOf = (data: Array<Record<string, ToolEvent>>, field: string) => data.map((item) => item[field]!);
const chatRequests = () => gateway.upstream.requests.filter((request) => request.path.endsWith('/chat/completions'));

describe('client functions', () => {
  test('a streamed reply that calls a function ends REQUIRES_ACTION and goes on after submitToolResults', async () => {
    const alice = gateway.guest();
    const events = eventsOf(
      await alice.subscribe(TOOL_CHAT_STREAM, { input: { content: 'Use get_weather for Lisbon', tools: [WEATHER_TOOL], toolChoice: 'AUTO' } }).done,
      'chatStream',
    );
    const sent = chatRequests().at(-1)!.body;
    expect(sent.tools).toEqual([{ type: 'function', function: WEATHER_TOOL }]);
    expect(sent.tool_choice).toBe('auto');

    expect(events.map((event) => event.__typename)).toEqual(['ToolCallEvent', 'MessageFinished']);
    const call = events[0]!.toolCall!;
    expect(call.name).toBe('get_weather');
    expect(JSON.parse(call.arguments)).toEqual({ city: 'Use get_weather for Lisbon' });
    const waiting = events[1]!.message;
    expect(waiting.status).toBe('REQUIRES_ACTION');
    expect(waiting.toolCalls).toEqual([{ ...call, result: null }]);

    const submitted = await alice.execute(SUBMIT_TOOL_RESULTS, { messageId: waiting.id, results: [{ toolCallId: call.id, output: '18°C and sunny' }] });
    expect(submitted.errors).toBeUndefined();
    const continuation = submitted.data.submitToolResults;
    expect(continuation.parent.id).toBe(waiting.id);
    const followed = eventsOf(await alice.subscribe(TOOL_MESSAGE_STREAM, { messageId: continuation.id }).done, 'messageStream');
    const finished = followed.at(-1)!.message;
    expect(finished.status).toBe('COMPLETE');
    expect(finished.content).toContain('Tool results: get_weather: "18°C and sunny"');
    expect(finished.usage.cost).toBeGreaterThan(0);

    // The provider got the call and its result in its own format, after the question.
    const messages = chatRequests().at(-1)!.body.messages;
    expect(messages.slice(-3)).toEqual([
      { role: 'user', content: 'Use get_weather for Lisbon' },
      { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: call.arguments } }] },
      { role: 'tool', tool_call_id: call.id, content: '18°C and sunny' },
    ]);
    const answered = await alice.execute(/* GraphQL */ `query ($id: ID!) { node(id: $id) { ... on Message { status toolCalls { id result } } } }`, {
      id: waiting.id,
    });
    expect(answered.data.node).toEqual({ status: 'COMPLETE', toolCalls: [{ id: call.id, result: '18°C and sunny' }] });
  });

  test('a later turn sends the earlier calls and results to the provider', async () => {
    const alice = gateway.guest();
    const first = await alice.execute(TOOL_CHAT, { input: { content: 'get_weather please', tools: [WEATHER_TOOL] } });
    const waiting = first.data.chat.replies[0];
    const call = waiting.toolCalls[0];
    const continued = await alice.execute(SUBMIT_TOOL_RESULTS, { messageId: waiting.id, results: [{ toolCallId: call.id, output: 'rain' }] });
    await alice.subscribe(TOOL_MESSAGE_STREAM, { messageId: continued.data.submitToolResults.id }).done;
    const regenerated = await alice.execute(REGENERATE, { messageId: continued.data.submitToolResults.id });
    expect(codeOf(regenerated)).toBe('BAD_USER_INPUT');
    gateway.upstream.reset();
    const later = await alice.execute(TOOL_CHAT, { input: { conversationId: first.data.chat.conversation.id, content: 'and tomorrow?' } });
    expect(later.data.chat.replies[0].status).toBe('COMPLETE');
    const roles = chatRequests()[0]!.body.messages.map((message: any) => message.role);
    expect(roles).toEqual(['user', 'assistant', 'tool', 'assistant', 'user']);
    const tool = chatRequests()[0]!.body.messages[2];
    expect(tool).toEqual({ role: 'tool', tool_call_id: call.id, content: 'rain' });
  });

  test('buffered: several calls in one reply, and every wrong submitToolResults is a coded error', async () => {
    const alice = gateway.guest();
    const mallory = gateway.guest();
    gateway.upstream.behave({
      toolCalls: [
        { name: 'get_weather', arguments: '{"city":"Lisbon"}' },
        { name: 'get_weather', arguments: '{"city":"Porto"}' },
      ],
    });
    const result = await alice.execute(TOOL_CHAT, { input: { content: 'weather twice', tools: [WEATHER_TOOL] } });
    gateway.upstream.reset();
    const waiting = result.data.chat.replies[0];
    expect(waiting.status).toBe('REQUIRES_ACTION');
    const [lisbon, porto] = waiting.toolCalls;
    expect([lisbon.arguments, porto.arguments]).toEqual(['{"city":"Lisbon"}', '{"city":"Porto"}']);

    const submit = (caller: typeof alice, results: unknown[]) => caller.execute(SUBMIT_TOOL_RESULTS, { messageId: waiting.id, results });
    const unknown = await submit(alice, [{ toolCallId: 'call_nope', output: 'x' }]);
    expect(codeOf(unknown)).toBe('BAD_USER_INPUT');
    expect(unknown.errors![0]!.extensions!.reason).toBe('UNKNOWN_TOOL_CALL');
    const missing = await submit(alice, [{ toolCallId: lisbon.id, output: 'sun' }]);
    expect(missing.errors![0]!.extensions!.reason).toBe('MISSING_TOOL_RESULTS');
    expect(missing.errors![0]!.extensions!.missing).toEqual([porto.id]);
    const twice = await submit(alice, [
      { toolCallId: lisbon.id, output: 'sun' },
      { toolCallId: lisbon.id, output: 'sun' },
    ]);
    expect(twice.errors![0]!.extensions!.reason).toBe('DUPLICATE_TOOL_RESULT');
    const foreign = await submit(mallory, [
      { toolCallId: lisbon.id, output: 'sun' },
      { toolCallId: porto.id, output: 'rain' },
    ]);
    expect(codeOf(foreign)).toBe('NOT_FOUND');
    expect(chatRequests()).toHaveLength(0);

    const ok = await submit(alice, [
      { toolCallId: porto.id, output: 'rain' },
      { toolCallId: lisbon.id, output: 'sun', isError: false },
    ]);
    expect(ok.errors).toBeUndefined();
    const again = await submit(alice, [
      { toolCallId: lisbon.id, output: 'sun' },
      { toolCallId: porto.id, output: 'rain' },
    ]);
    expect(again.errors![0]!.extensions!.reason).toBe('NOT_AWAITING_TOOL_RESULTS');
    const done = eventsOf(await alice.subscribe(TOOL_MESSAGE_STREAM, { messageId: ok.data.submitToolResults.id }).done, 'messageStream');
    expect(done.at(-1)!.message.content).toContain('Tool results: get_weather: "sun"; get_weather: "rain"');
  });

  test('a reply that did not call functions is not waiting, and tool definitions are checked', async () => {
    const alice = gateway.guest();
    const plain = await alice.execute(TOOL_CHAT, { input: { content: 'hello', tools: [WEATHER_TOOL] } });
    expect(plain.data.chat.replies[0].status).toBe('COMPLETE');
    const notWaiting = await alice.execute(SUBMIT_TOOL_RESULTS, { messageId: plain.data.chat.replies[0].id, results: [] });
    expect(notWaiting.errors![0]!.extensions!.reason).toBe('NOT_AWAITING_TOOL_RESULTS');

    const badName = await alice.execute(TOOL_CHAT, { input: { content: 'hi', tools: [{ name: 'no spaces allowed' }] } });
    expect(codeOf(badName)).toBe('BAD_USER_INPUT');
    const twice = await alice.execute(TOOL_CHAT, { input: { content: 'hi', tools: [WEATHER_TOOL, WEATHER_TOOL] } });
    expect(codeOf(twice)).toBe('BAD_USER_INPUT');
    const required = await alice.execute(TOOL_CHAT, { input: { content: 'hi', toolChoice: 'REQUIRED' } });
    expect(codeOf(required)).toBe('BAD_USER_INPUT');
  });

  test('toolChoice REQUIRED makes the model call a function it was not asked by name to call', async () => {
    const alice = gateway.guest();
    const result = await alice.execute(TOOL_CHAT, { input: { content: 'what should I wear?', tools: [WEATHER_TOOL], toolChoice: 'REQUIRED' } });
    expect(chatRequests().at(-1)!.body.tool_choice).toBe('required');
    expect(result.data.chat.replies[0].status).toBe('REQUIRES_ACTION');
    const stored = await alice.execute(MESSAGE, { id: result.data.chat.replies[0].id });
    expect(stored.data.node.status).toBe('REQUIRES_ACTION');
  });
});
