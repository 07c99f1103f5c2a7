import { type EndableIterator, followSubscription, type GatewayPubSub, type TopicSubscription } from '../../lib/pubsub.js';
import type { EventLog } from './event-log.js';
import { coalesceDeltas, type MessageEvent } from './message-events.js';
import { isUnfinished, type MessageStore } from './message-store.js';

/** How long a follower waits for a live event before it looks at the event log itself. */
const LOG_POLL_MS = 1_000;

export interface ReplyStreamDeps {
  store: MessageStore;
  eventLog: EventLog;
  pubsub: GatewayPubSub;
  /** Whether this instance runs the reply (then it is unfinished by definition). */
  isRunningHere(messageId: string): boolean;
}

/**
 * The events of replies for whoever follows them: replay from the event log
 * after a seq, then live events from pubsub, with the stored row as the last
 * word when the log is gone.
 */
export function createReplyStream(deps: ReplyStreamDeps) {
  let activeFollowers = 0;

  /** The stored row's last word, for a reply whose event log is gone (expired, or its instance died). */
  async function finishedFromRow(messageId: string, after: number): Promise<MessageEvent | 'unfinished' | 'missing' | 'nothing'> {
    const stored = await deps.store.replyState(messageId);
    if (!stored) return 'missing';
    if (isUnfinished(stored.status)) return 'unfinished';
    if (stored.lastSeq <= after) return 'nothing';
    return { type: 'MessageFinished', messageId, conversationId: stored.conversationId, seq: stored.lastSeq, status: stored.status };
  }

  /** What to deliver when the log holds nothing new: the row's MessageFinished, or null to end the stream. */
  async function fromRowWhenSilent(messageId: string, lastSeq: number): Promise<MessageEvent[] | null> {
    const fromRow = await finishedFromRow(messageId, lastSeq);
    if (fromRow === 'missing' || fromRow === 'nothing') return null;
    if (fromRow !== 'unfinished' && (await deps.eventLog.read(messageId, lastSeq)) === null) return [fromRow];
    return [];
  }

  /**
   * Replays a reply's events after `after`, then follows it live. Live events
   * come through pubsub; whenever one arrives out of order, or nothing arrives
   * for a while, the event log fills the gap (with several instances an event
   * can be published before this subscription reaches Redis).
   */
  async function* followLive(live: TopicSubscription<MessageEvent>, messageId: string, after: number): AsyncGenerator<MessageEvent> {
    activeFollowers += 1;
    let lastSeq = after;
    try {
      let batch = (await deps.eventLog.read(messageId, 0)) ?? [];
      for (;;) {
        if (batch.length === 0 && !deps.isRunningHere(messageId)) {
          const fromRow = await fromRowWhenSilent(messageId, lastSeq);
          if (fromRow === null) return;
          batch = fromRow;
        }
        // Asked for events after the end: there is nothing more to follow.
        if (batch.some((event) => event.type === 'MessageFinished' && event.seq <= lastSeq)) return;
        for (const event of batch) {
          if (event.seq <= lastSeq) continue;
          yield event;
          lastSeq = event.seq;
          if (event.type === 'MessageFinished') return;
        }
        // Events published meanwhile wait in the subscription's buffer.
        const next = await live.nextWithin(LOG_POLL_MS);
        if (next === undefined) {
          batch = (await deps.eventLog.read(messageId, lastSeq)) ?? [];
          continue;
        }
        if (next.done) return;
        const waiting = [next.value, ...live.drain()];
        const inOrder = waiting.every((event, index) => event.seq === lastSeq + 1 + index);
        batch = inOrder ? coalesceDeltas(waiting) : ((await deps.eventLog.read(messageId, lastSeq)) ?? waiting);
        // A live event arrived: the row check above is only for an empty, silent log.
        if (batch.length === 0) batch = [next.value];
      }
    } finally {
      activeFollowers -= 1;
      await live.return();
    }
  }

  /** A reply's events for one subscriber, ended at once by return() even while the provider is silent. */
  const follow = (messageId: string, after: number): EndableIterator<MessageEvent> =>
    followSubscription(
      () => deps.pubsub.subscribe('message', messageId),
      (live) => followLive(live, messageId, after),
    );

  return {
    follow,
    /** Streams following a reply that have not delivered its MessageFinished yet. */
    followerCount: () => activeFollowers,
  };
}
