import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { eventually, startGateway, type Gateway } from '../support/harness.js';
import { startServerProcess } from '../support/processes.js';
import { startS3Server, type S3Server } from '../support/s3-server.js';

const get = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as any };
};

describe('an instance with only its database', () => {
  let gateway: Gateway;
  afterAll(() => gateway?.close());

  test('/healthz and /readyz answer a plain GET, with no CSRF header', async () => {
    gateway = await startGateway();
    expect(await get(`${gateway.url}/healthz`)).toEqual({ status: 200, body: { status: 'alive' } });
    expect(await get(`${gateway.url}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ready', checks: { database: 'ok', migrations: 'ok', shutdown: 'ok' } },
    });
    expect((await fetch(`${gateway.url}/readyz`, { method: 'POST' })).status).toBe(405);
  });

  test('a migration missing from the database makes it not ready, naming the migration', async () => {
    const [latest] = await gateway.app.services.db.prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(
      'DELETE FROM "_prisma_migrations" WHERE migration_name = (SELECT max(migration_name) FROM "_prisma_migrations") RETURNING migration_name',
    );
    const { status, body } = await get(`${gateway.url}/readyz`);
    expect(status).toBe(503);
    expect(body.failed).toEqual(['migrations']);
    expect(body.checks.migrations).toEqual({ error: `not applied: ${latest!.migration_name}` });
    expect(body.checks.database).toBe('ok');
  });
});

describe('an instance with Redis and a bucket', () => {
  let gateway: Gateway;
  let s3: S3Server;
  afterAll(async () => {
    await gateway?.close();
    await s3?.close().catch(() => {});
  });

  test('both are checked, and a bucket that stops answering turns it 503 naming the bucket', async () => {
    s3 = await startS3Server();
    process.env.AWS_ACCESS_KEY_ID = s3.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = s3.secretAccessKey;
    gateway = await startGateway({
      redisUrl: process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
      redisPrefix: `probes-${randomUUID()}`,
      filesBucket: s3.bucket,
      s3Endpoint: s3.endpoint,
      s3ForcePathStyle: true,
    });
    expect(await get(`${gateway.url}/readyz`)).toEqual({
      status: 200,
      body: { status: 'ready', checks: { database: 'ok', migrations: 'ok', redis: 'ok', bucket: 'ok', shutdown: 'ok' } },
    });

    await s3.close();
    const { status, body } = await get(`${gateway.url}/readyz`);
    expect(status).toBe(503);
    expect(body.status).toBe('not ready');
    expect(body.failed).toEqual(['bucket']);
    expect(body.checks.bucket.error).toBeTruthy();
    expect(body.checks.redis).toBe('ok');
  });
});

test('on SIGTERM /readyz turns 503 at once while the instance still serves its drain period', async () => {
  const server = await startServerProcess({ DATA_DIR: 'memory://', SHUTDOWN_DRAIN_MS: '3000', SHUTDOWN_GRACE_MS: '0' });
  try {
    expect((await get(`${server.url}/readyz`)).status).toBe(200);
    const exit = server.stop();
    const { body } = await eventually(async () => {
      const answer = await get(`${server.url}/readyz`);
      return answer.status === 503 ? answer : undefined;
    });
    expect(body).toMatchObject({ status: 'not ready', failed: ['shutdown'], checks: { database: 'ok', shutdown: { error: 'shutting down' } } });
    expect(await get(`${server.url}/healthz`)).toEqual({ status: 200, body: { status: 'alive' } });
    expect(await exit).toBe(0);
  } finally {
    if (server.child.exitCode === null) await server.kill();
  }
}, 90_000);
