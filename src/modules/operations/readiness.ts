import { readdir } from 'node:fs/promises';
import type { PrismaClient } from '../../generated/prisma/client.js';
import { defaultMigrationsDir } from '../../lib/migrate.js';

export type CheckResult = 'ok' | { error: string };

export interface ReadinessReport {
  ready: boolean;
  /** Each dependency this instance uses; the ones not configured are absent. */
  checks: Record<string, CheckResult>;
}

export interface ReadinessDependencies {
  prisma: PrismaClient;
  redis?: { ping(): Promise<unknown> };
  bucket?: { ping(): Promise<void> };
  migrationsDir?: string;
  timeoutMs?: number;
}

function withinTime<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function outcome(work: () => Promise<unknown>, timeoutMs: number): Promise<CheckResult> {
  try {
    await withinTime(work(), timeoutMs);
    return 'ok';
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

/** What /readyz reports: the database (and its migrations), Redis and the bucket answer, and the instance is not stopping. */
export function createReadiness({ prisma, redis, bucket, migrationsDir = defaultMigrationsDir, timeoutMs = 2_000 }: ReadinessDependencies) {
  let shuttingDown = false;
  const expectedMigrations = readdir(migrationsDir, { withFileTypes: true }).then((entries) =>
    entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name),
  );

  async function migrationsApplied(): Promise<CheckResult> {
    const rows = await prisma.$queryRawUnsafe<Array<{ migration_name: string }>>(
      'SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
    );
    const applied = new Set(rows.map((row) => row.migration_name));
    const pending = (await expectedMigrations).filter((name) => !applied.has(name));
    return pending.length === 0 ? 'ok' : { error: `not applied: ${pending.join(', ')}` };
  }

  return {
    /** Readiness fails first; for `drainMs` the instance keeps serving while load balancers notice. */
    async beginShutdown(drainMs: number) {
      shuttingDown = true;
      if (drainMs > 0) await new Promise((resolve) => setTimeout(resolve, drainMs));
    },
    async report(): Promise<ReadinessReport> {
      const checks: Record<string, CheckResult> = {};
      let migrations: CheckResult = { error: 'database unreachable' };
      const [database, redisResult, bucketResult] = await Promise.all([
        outcome(async () => {
          migrations = await migrationsApplied();
        }, timeoutMs),
        redis && outcome(() => redis.ping(), timeoutMs),
        bucket && outcome(() => bucket.ping(), timeoutMs),
      ]);
      checks.database = database;
      checks.migrations = migrations;
      if (redisResult) checks.redis = redisResult;
      if (bucketResult) checks.bucket = bucketResult;
      checks.shutdown = shuttingDown ? { error: 'shutting down' } : 'ok';
      return { ready: Object.values(checks).every((result) => result === 'ok'), checks };
    },
  };
}

export type Readiness = ReturnType<typeof createReadiness>;
