import { Redis } from 'ioredis';

/** Three connections: commands, publishing, and one held in subscriber mode. */
export interface RedisConnections {
  commands: Redis;
  publisher: Redis;
  subscriber: Redis;
  /** Prepended to every key, so deployments (or test runs) can share one Redis. */
  prefix: string;
  close(): Promise<void>;
}

export async function connectRedis(url: string, prefix: string): Promise<RedisConnections> {
  const connect = () => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true });
  const commands = connect();
  const publisher = connect();
  const subscriber = connect();
  await Promise.all([commands.connect(), publisher.connect(), subscriber.connect()]);
  return {
    commands,
    publisher,
    subscriber,
    prefix,
    async close() {
      await Promise.all([commands.quit(), publisher.quit(), subscriber.quit()].map((closing) => closing.catch(() => {})));
    },
  };
}
