import { describe, expect, test } from 'vitest';
import { createGatewayPubSub } from '../../src/lib/pubsub.js';
import { createMemoryEventLog } from '../../src/modules/chat/event-log.js';
import type { MessageStore } from '../../src/modules/chat/message-store.js';
import { createReplyStream } from '../../src/modules/chat/reply-stream.js';

// A follower that falls behind gets the tokens waiting for it as one delta;
// one that keeps up gets every token on its own, the first one included.
function setUp() {
  const pubsub = createGatewayPubSub();
  const eventLog = createMemoryEventLog(pubsub, 1_000);
  // The reply runs here, so the follower never needs the stored row.
  const stream = createReplyStream({ store: {} as MessageStore, eventLog, pubsub, isRunningHere: () => true });
  let seq = 0;
  const token = (delta: string) => eventLog.append({ type: 'TokenDelta', messageId: 'm1', conversationId: 'c1', seq: ++seq, delta });
  const finish = () => eventLog.append({ type: 'MessageFinished', messageId: 'm1', conversationId: 'c1', seq: ++seq, status: 'COMPLETE' });
  return { stream, token, finish, eventLog };
}

describe('token deltas for a follower that falls behind', () => {
  test('tokens that were waiting arrive as one delta with the last seq, and nothing is lost', async () => {
    const { stream, token, finish, eventLog } = setUp();
    await token('a');
    const follower = stream.follow('m1', 0);
    expect((await follower.next()).value).toMatchObject({ type: 'TokenDelta', seq: 1, delta: 'a' });
    // While the follower is busy with token 1, three more arrive.
    await token('b');
    await token('c');
    await token('d');
    expect((await follower.next()).value).toMatchObject({ type: 'TokenDelta', seq: 4, delta: 'bcd' });
    await finish();
    expect((await follower.next()).value).toMatchObject({ type: 'MessageFinished', seq: 5 });
    expect((await follower.next()).done).toBe(true);
    await eventLog.close();
  });

  test('a follower that keeps up gets each token alone, the first at once', async () => {
    const { stream, token, finish, eventLog } = setUp();
    await token('a');
    const follower = stream.follow('m1', 0);
    expect((await follower.next()).value).toMatchObject({ seq: 1, delta: 'a' });
    const waiting = follower.next();
    await token('b');
    expect((await waiting).value).toMatchObject({ seq: 2, delta: 'b' });
    const next = follower.next();
    await token('c');
    await finish();
    expect((await next).value).toMatchObject({ seq: 3, delta: 'c' });
    expect((await follower.next()).value).toMatchObject({ type: 'MessageFinished', seq: 4 });
    await follower.return(undefined);
    await eventLog.close();
  });
});

describe('a follower ended early', () => {
  /** An EventTarget that counts its listeners: what a subscription holds on to. */
  class CountingTarget extends EventTarget {
    listeners = 0;
    override addEventListener(...args: Parameters<EventTarget['addEventListener']>) {
      this.listeners += 1;
      super.addEventListener(...args);
    }
    override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>) {
      this.listeners -= 1;
      super.removeEventListener(...args);
    }
  }

  test('ended before its first next() holds no subscription, and ended while waiting lets go of it', async () => {
    const target = new CountingTarget();
    const pubsub = createGatewayPubSub(target);
    const eventLog = createMemoryEventLog(pubsub, 1_000);
    const stream = createReplyStream({ store: {} as MessageStore, eventLog, pubsub, isRunningHere: () => true });
    const baseline = target.listeners;

    const never = stream.follow('m1', 0);
    // Made but not yet read (a merged stream starts its sources late, or never): nothing is held.
    expect(target.listeners).toBe(baseline);
    await never.return(undefined);
    expect(target.listeners).toBe(baseline);
    expect((await never.next()).done).toBe(true);
    expect(target.listeners).toBe(baseline);

    const waiting = stream.follow('m1', 0);
    const pending = waiting.next();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(target.listeners).toBe(baseline + 1);
    expect(stream.followerCount()).toBe(1);
    await waiting.return(undefined);
    expect((await pending).done).toBe(true);
    expect(target.listeners).toBe(baseline);
    expect(stream.followerCount()).toBe(0);
    await eventLog.close();
  });
});
