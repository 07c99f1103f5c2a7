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

/** Redis could not be reached at start-up; the message names REDIS_URL, the address and the cause (never the password). */
export class RedisUnavailableError extends Error {
  constructor(
    readonly address: string,
    cause: unknown,
  ) {
    super(`REDIS_URL: cannot connect to Redis at ${address}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'RedisUnavailableError';
  }
}

export interface RedisErrorLog {
  warn(details: Record<string, unknown>, message: string): void;
}

export async function connectRedis(url: string, prefix: string, log?: RedisErrorLog): Promise<RedisConnections> {
  // The first connection must work: a wrong URL is reported at once instead of retried in the background.
  const connect = () => new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableOfflineQueue: true, retryStrategy: () => null });
  const commands = connect();
  const publisher = connect();
  const subscriber = connect();
  const all = [commands, publisher, subscriber];
  let started = false;
  // connect() itself only rejects with "Connection is closed."; the cause arrives as an error event.
  let firstError: Error | undefined;
  for (const connection of all) {
    // Without a listener, ioredis prints every failed attempt as an unhandled error event.
    connection.on('error', (error: Error) => {
      if (started) log?.warn({ err: error }, 'redis connection error');
      else firstError ??= error;
    });
  }
  const attempts = await Promise.allSettled(all.map((connection) => connection.connect()));
  const failed = attempts.find((attempt): attempt is PromiseRejectedResult => attempt.status === 'rejected');
  if (failed) {
    for (const connection of all) connection.disconnect();
    throw new RedisUnavailableError(`${commands.options.host}:${commands.options.port}`, firstError ?? failed.reason);
  }
  started = true;
  // Once running, dropped connections are retried, backing off up to 2 s.
  for (const connection of all) connection.options.retryStrategy = (times: number) => Math.min(times * 100, 2_000);
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
