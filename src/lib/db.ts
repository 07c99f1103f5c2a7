import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.js';
import { type MaintenanceLogger, startEmbeddedMaintenance } from './embedded-maintenance.js';
import { applyMigrations, type MigrationLogger } from './migrate.js';

export type DatabaseKind = 'pglite' | 'postgresql';

export interface DatabaseOptions {
  /** postgres://... for a PostgreSQL server; unset for the embedded PGlite. */
  databaseUrl?: string;
  /** The embedded database's directory, or 'memory://'. */
  dataDir?: string;
  /** A PostgreSQL schema to live in (created if missing); tests isolate servers this way. */
  schema?: string;
  poolMax?: number;
  /** How often the embedded database's changed tables are analyzed and vacuumed (it has no autovacuum); 0: never. */
  maintenanceIntervalMs?: number;
  logger?: MigrationLogger & MaintenanceLogger;
}

export interface Database {
  prisma: PrismaClient;
  kind: DatabaseKind;
  /** Migrations this open applied, oldest first (empty when the database was up to date). */
  appliedMigrations: string[];
  /** SQL statements sent by the app's client; writes are INSERT/UPDATE/DELETE (transaction control is not counted). */
  statements: { total: number; writes: number };
  /** Connections of the pool right now (metrics). */
  poolStats(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

const transactionControl = /^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|SET|SHOW)\b/i;
const write = /^\s*(WITH\b[\s\S]*?\)\s*)?(INSERT|UPDATE|DELETE)\b/i;

function countStatements(pool: pg.Pool, statements: Database['statements']) {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string } | undefined)?.text ?? '');
      if (!transactionControl.test(text)) {
        statements.total += 1;
        if (write.test(text)) statements.writes += 1;
      }
      return query(...args);
    };
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const claimedHere = new Set<string>();

/** PGlite corrupts a data directory opened twice; claim it with a pid file (and within this process, a set). */
async function claimDataDir(dataDir: string): Promise<() => Promise<void>> {
  const directory = path.resolve(dataDir);
  const lockFile = path.join(directory, 'gateway.pid');
  const holder = Number.parseInt(await readFile(lockFile, 'utf8').catch(() => ''), 10);
  const heldElsewhere = holder && holder !== process.pid && isRunning(holder);
  if (heldElsewhere || claimedHere.has(directory)) {
    throw new Error(`The embedded database in ${dataDir} is in use by process ${heldElsewhere ? holder : process.pid}; stop it first, or use DATABASE_URL.`);
  }
  claimedHere.add(directory);
  await writeFile(lockFile, String(process.pid));
  return async () => {
    claimedHere.delete(directory);
    await rm(lockFile, { force: true });
  };
}

async function startEmbedded(dataDir: string) {
  const inMemory = dataDir === 'memory://';
  if (!inMemory) await mkdir(dataDir, { recursive: true });
  const release = inMemory ? async () => {} : await claimDataDir(dataDir);
  // pgvector ships with the embedded database, so knowledge search uses its HNSW index there.
  const pglite = new PGlite({ ...(inMemory ? {} : { dataDir: path.join(dataDir, 'pglite') }), extensions: { vector } });
  // PGlite is single-connection; the socket server lets the same pg driver reach it, queueing every
  // connection's queries (a transaction's run together). The pool holds one connection, but it drops a
  // connection whose query failed and connects again at once, while the server is still closing the old
  // one: with room for only one, that reconnect was refused and the statement after any failed one failed.
  const server = new PGLiteSocketServer({ db: pglite, host: '127.0.0.1', port: 0, maxConnections: 2 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`,
    async stop() {
      await server.stop();
      await pglite.close();
      await release();
    },
  };
}

function quoteIdentifier(name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name)) throw new Error(`Invalid schema name "${name}"`);
  return `"${name}"`;
}

/** Applies pending migrations on a connection of its own (the embedded socket serves one at a time). */
async function migrate(connectionString: string, schema: string | undefined, logger: MigrationLogger | undefined): Promise<string[]> {
  const migrator = new pg.Client({ connectionString });
  await migrator.connect();
  try {
    if (schema) {
      // Two instances may race here; IF NOT EXISTS is not atomic in PostgreSQL.
      await migrator.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`).catch((error: { code?: string }) => {
        if (error.code !== '23505') throw error;
      });
      await migrator.query(`SET search_path TO ${quoteIdentifier(schema)}`);
    }
    return await applyMigrations(migrator, { logger });
  } finally {
    await migrator.end();
  }
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const embedded = options.databaseUrl ? undefined : await startEmbedded(options.dataDir ?? './data');
  const connectionString = options.databaseUrl ?? embedded!.url;
  const schema = options.schema;
  const searchPath = schema ? { options: `-c search_path=${schema}` } : {};

  let appliedMigrations: string[];
  try {
    appliedMigrations = await migrate(connectionString, schema, options.logger);
  } catch (error) {
    // A failed open must not leave the embedded directory claimed and its socket listening.
    await embedded?.stop();
    throw error;
  }

  const pool = new pg.Pool({
    connectionString,
    max: embedded ? 1 : (options.poolMax ?? Number(process.env.DATABASE_POOL_MAX ?? 10)),
    ...searchPath,
  });
  const statements = { total: 0, writes: 0 };
  countStatements(pool, statements);
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool, schema ? { schema } : undefined),
    // The embedded database has one connection: under a burst, a transaction may queue for it a while.
    transactionOptions: { maxWait: 15_000, timeout: 20_000 },
  });
  const maintenance = embedded && startEmbeddedMaintenance(pool, options.maintenanceIntervalMs ?? 60_000, options.logger);

  return {
    prisma,
    kind: embedded ? 'pglite' : 'postgresql',
    appliedMigrations,
    statements,
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      await maintenance?.stop();
      await prisma.$disconnect();
      await pool.end();
      await embedded?.stop();
    },
  };
}

/** Drops a schema made for a test server. */
export async function dropSchema(databaseUrl: string, schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(schema)} CASCADE`);
  } finally {
    await client.end();
  }
}

/** A unique constraint refused the write, whether Prisma or the driver adapter (raw statements) reports it. */
export function isUniqueViolation(error: unknown): boolean {
  const { code, meta } = error as { code?: string; meta?: { code?: string; driverAdapterError?: { cause?: { originalCode?: string } } } };
  return code === 'P2002' || meta?.code === '23505' || meta?.driverAdapterError?.cause?.originalCode === '23505';
}
