// Fails loudly when a service the test suite needs is not reachable, so CI
// never passes by silently skipping the PostgreSQL run.
import pg from 'pg';

const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
try {
  await client.connect();
  const { rows } = await client.query('select version()');
  console.log(`PostgreSQL reachable: ${rows[0].version.split(',')[0]}`);
} catch (error) {
  console.error(`PostgreSQL is not reachable at ${url}: ${error.message}`);
  process.exit(1);
} finally {
  await client.end().catch(() => {});
}

// Redis, for the multi-instance tests.
const { Redis } = await import('ioredis');
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000 });
try {
  await redis.connect();
  console.log(`Redis reachable: ${(await redis.info('server')).match(/redis_version:(\S+)/)?.[1] ?? 'unknown version'}`);
} catch (error) {
  console.error(`Redis is not reachable at ${redisUrl}: ${error.message}`);
  process.exit(1);
} finally {
  redis.disconnect();
}
