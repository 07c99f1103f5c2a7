import type { RedisConnections } from '../../lib/redis.js';
import type { GatewayPubSub } from '../../lib/pubsub.js';
import type { EventLog } from './event-log.js';
import type { MessageEvent } from './message-events.js';

/** Most events one reply may keep; a reply longer than this is replayed from the stored row. */
const MAX_EVENTS = 100_000;
/** A running reply's log lives at least this long after its latest event. */
const ACTIVE_TTL_SECONDS = 60 * 60;

/**
 * The event log in Redis: every instance can replay any reply with `after`,
 * whichever instance runs it. A list per reply, bounded and expiring.
 */
export function createRedisEventLog(redis: RedisConnections, pubsub: GatewayPubSub, retentionMs: number): EventLog {
  const key = (messageId: string) => `${redis.prefix}:events:${messageId}`;
  return {
    async append(event) {
      const finished = event.type === 'MessageFinished';
      await redis.commands
        .multi()
        .rpush(key(event.messageId), JSON.stringify(event))
        .ltrim(key(event.messageId), 0, MAX_EVENTS - 1)
        .expire(key(event.messageId), finished ? Math.ceil(retentionMs / 1000) : ACTIVE_TTL_SECONDS)
        .exec();
      pubsub.publish('message', event.messageId, event);
      pubsub.publish('conversation', event.conversationId, event);
    },
    async read(messageId, afterSeq) {
      const items = await redis.commands.lrange(key(messageId), Math.max(0, afterSeq), -1);
      if (items.length === 0 && (await redis.commands.exists(key(messageId))) === 0) return null;
      return items.map((item) => JSON.parse(item) as MessageEvent);
    },
    async close() {},
  };
}
