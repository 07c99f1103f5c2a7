import type { GatewayPubSub } from '../../lib/pubsub.js';
import type { MessageEvent } from './message-events.js';

/**
 * Every event of a reply, kept so a client that reconnects with `after: seq`
 * misses nothing. Events are published as they are appended.
 */
export interface EventLog {
  append(event: MessageEvent): Promise<void>;
  /** Events after `afterSeq`, or null when this log holds nothing for the message. */
  read(messageId: string, afterSeq: number): Promise<MessageEvent[] | null>;
  close(): Promise<void>;
}

export function createMemoryEventLog(pubsub: GatewayPubSub, retentionMs: number): EventLog {
  const logs = new Map<string, MessageEvent[]>();
  const evictions = new Set<NodeJS.Timeout>();

  return {
    async append(event) {
      let events = logs.get(event.messageId);
      if (!events) logs.set(event.messageId, (events = []));
      events.push(event);
      if (event.type === 'MessageFinished') {
        const timer = setTimeout(() => {
          evictions.delete(timer);
          logs.delete(event.messageId);
        }, retentionMs);
        timer.unref();
        evictions.add(timer);
      }
      pubsub.publish('message', event.messageId, event);
      pubsub.publish('conversation', event.conversationId, event);
    },
    async read(messageId, afterSeq) {
      const events = logs.get(messageId);
      if (!events) return null;
      // seq n sits at index n - 1.
      return events.slice(Math.max(0, afterSeq));
    },
    async close() {
      for (const timer of evictions) clearTimeout(timer);
      evictions.clear();
      logs.clear();
    },
  };
}
