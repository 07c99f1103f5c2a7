import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { defaultMigrationsDir } from '../../src/lib/migrate.js';
import { startGateway, type Gateway } from '../support/harness.js';

let gateway: Gateway;
beforeAll(async () => {
  gateway = await startGateway();
});
afterAll(() => gateway?.close());

const prisma = () => gateway.app.services.db.prisma;
const credits = () => gateway.app.services.credits;
const balanceOf = async (userId: string) => (await prisma().user.findUniqueOrThrow({ where: { id: userId } })).creditBalance;
const ledgerSum = async (userId: string) => (await prisma().creditLedgerEntry.aggregate({ where: { userId }, _sum: { delta: true } }))._sum.delta ?? 0;
const rowsOf = (reference: string) => prisma().creditLedgerEntry.findMany({ where: { reference }, orderBy: { kind: 'asc' } });

describe('settling a reservation', () => {
  test('a second settle of the same reference changes nothing and says so', async () => {
    const user = await gateway.user({ credits: 100_000 });
    const reference = randomUUID();
    await credits().reserve(prisma(), user.id, 5_000, reference);
    expect(await balanceOf(user.id)).toBe(95_000);

    expect(await credits().settle(user.id, 5_000, 1_200, reference)).toBe(true);
    expect(await balanceOf(user.id)).toBe(98_800);
    // Again with the same amounts, then as if the call had failed: neither refunds anything more.
    expect(await credits().settle(user.id, 5_000, 1_200, reference)).toBe(false);
    expect(await credits().settle(user.id, 5_000, 0, reference)).toBe(false);

    expect(await balanceOf(user.id)).toBe(98_800);
    const rows = await rowsOf(reference);
    expect(rows.map((row) => [row.kind, row.delta, row.balanceAfter])).toEqual([
      ['refund', 3_800, 98_800],
      ['reserve', -5_000, 95_000],
    ]);
    expect(await ledgerSum(user.id)).toBe(98_800);
  });

  test('a reservation used in full is settled by a row that returns nothing, and a later refund of it is refused', async () => {
    const user = await gateway.user({ credits: 100_000 });
    const reference = randomUUID();
    await credits().reserve(prisma(), user.id, 5_000, reference);
    expect(await credits().settle(user.id, 5_000, 7_000, reference)).toBe(true);
    expect(await credits().settle(user.id, 5_000, 0, reference)).toBe(false);
    expect(await balanceOf(user.id)).toBe(95_000);
    expect((await rowsOf(reference)).map((row) => [row.kind, row.delta, row.balanceAfter])).toEqual([
      ['refund', 0, 95_000],
      ['reserve', -5_000, 95_000],
    ]);
  });

  test('ten concurrent settles of one reference: one wins, the balance moves once, one refund row', async () => {
    const user = await gateway.user({ credits: 100_000 });
    const reference = randomUUID();
    await credits().reserve(prisma(), user.id, 10_000, reference);
    // Each one claims a different usage; whichever settles first decides the charge, and only one does.
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, index) => credits().settle(user.id, 10_000, index * 1_000, reference)));
    expect(outcomes.filter(Boolean)).toHaveLength(1);

    const refunds = await prisma().creditLedgerEntry.findMany({ where: { reference, kind: 'refund' } });
    expect(refunds).toHaveLength(1);
    const refund = refunds[0]!;
    expect([...Array(10).keys()].map((index) => 10_000 - index * 1_000)).toContain(refund.delta);
    expect(await balanceOf(user.id)).toBe(90_000 + refund.delta);
    expect(refund.balanceAfter).toBe(90_000 + refund.delta);
    expect(await ledgerSum(user.id)).toBe(await balanceOf(user.id));
  });

  test('concurrent settles of different references each record the balance they produced', async () => {
    const user = await gateway.user({ credits: 100_000 });
    const references = Array.from({ length: 10 }, () => randomUUID());
    for (const reference of references) await credits().reserve(prisma(), user.id, 2_000, reference);
    expect(await balanceOf(user.id)).toBe(80_000);

    // Refunds of 100, 200, ... 1000 at once, with grants racing them.
    const outcomes = await Promise.all([
      ...references.map((reference, index) => credits().settle(user.id, 2_000, 2_000 - (index + 1) * 100, reference)),
      ...Array.from({ length: 5 }, () =>
        credits()
          .grant(user.id, 7, 'race')
          .then(() => true),
      ),
    ]);
    expect(outcomes.every(Boolean)).toBe(true);
    const balance = await balanceOf(user.id);
    expect(balance).toBe(80_000 + 5_500 + 35);
    expect(await ledgerSum(user.id)).toBe(balance);

    // Taken in the order they happened, every row's balanceAfter is the previous one plus its delta.
    const changes = await prisma().creditLedgerEntry.findMany({ where: { userId: user.id, OR: [{ kind: 'refund' }, { kind: 'grant', reference: 'race' }] } });
    const ordered = changes.sort((a, b) => a.balanceAfter - b.balanceAfter);
    expect(ordered).toHaveLength(15);
    for (const [index, row] of ordered.entries()) {
      const before = index === 0 ? 80_000 : ordered[index - 1]!.balanceAfter;
      expect(row.balanceAfter - before, `row ${index}`).toBe(row.delta);
    }
    expect(ordered.at(-1)!.balanceAfter).toBe(balance);
  });

  test('a reference is reserved at most once', async () => {
    const user = await gateway.user({ credits: 100_000 });
    const reference = randomUUID();
    await credits().reserve(prisma(), user.id, 1_000, reference);
    await expect(credits().reserve(prisma(), user.id, 1_000, reference)).rejects.toThrow(/unique/i);
    expect(await balanceOf(user.id)).toBe(99_000);
    expect(await prisma().creditLedgerEntry.count({ where: { reference } })).toBe(1);
  });

  test('grants may repeat a reference', async () => {
    const user = await gateway.user({ credits: 0 });
    await credits().grant(user.id, 10, 'admin');
    await credits().grant(user.id, 10, 'admin');
    expect(await balanceOf(user.id)).toBe(20);
  });
});

/** A database of its own, for replaying the migration history: in-memory PGlite, or a fresh schema on TEST_DATABASE_URL. */
async function scratchDatabase(): Promise<{ exec(sql: string): Promise<void>; rows<T>(sql: string): Promise<T[]>; close(): Promise<void> }> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    const db = new PGlite();
    return {
      exec: async (sql) => {
        await db.exec(sql);
      },
      rows: async <T>(sql: string) => (await db.query<T>(sql)).rows,
      close: () => db.close(),
    };
  }
  const schema = `test_ledger_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE SCHEMA "${schema}"`);
  await client.query(`SET search_path TO "${schema}"`);
  return {
    exec: async (sql) => {
      await client.query(sql);
    },
    rows: async <T>(sql: string) => (await client.query(sql)).rows as T[],
    close: async () => {
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    },
  };
}

describe('the migration that makes ledger references unique', () => {
  test('keeps every earlier row, renames repeats to the attempt they belong to, and counts batch attempts', async () => {
    const names = (await readdir(defaultMigrationsDir, { withFileTypes: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
    const index = names.findIndex((name) => name.endsWith('_ledger_once_per_reference'));
    expect(index).toBeGreaterThan(0);
    const sqlOf = (name: string) => readFile(path.join(defaultMigrationsDir, name, 'migration.sql'), 'utf8');
    const db = await scratchDatabase();
    try {
      for (const name of names.slice(0, index)) await db.exec(await sqlOf(name));
      // What the earlier code could leave: a batch request run twice under one reference (the takeover refunded the
      // first attempt, the second reserved and settled again), a reply settled twice, and repeated admin grants.
      await db.exec(`
        INSERT INTO "User" (id, tier, "creditBalance", "createdAt", "updatedAt") VALUES ('u1', 'PRO', 0, now(), now());
        INSERT INTO "BatchJob" (id, "ownerId", "billedUserId", tier, "modelId", total) VALUES ('j1', 'u1', 'u1', 'PRO', 'm', 2);
        INSERT INTO "BatchRequest" (id, "jobId", position, "customId", content, status) VALUES
          ('r1', 'j1', 0, 'a', 'x', 'SUCCEEDED'), ('r2', 'j1', 1, 'b', 'y', 'SUCCEEDED');
        INSERT INTO "CreditLedgerEntry" (id, "userId", delta, "balanceAfter", kind, reference, "createdAt") VALUES
          ('e1', 'u1', 100, 100, 'grant', 'admin', '2026-01-01 00:00:01'),
          ('e2', 'u1', 100, 200, 'grant', 'admin', '2026-01-01 00:00:02'),
          ('e3', 'u1', -50, 150, 'reserve', 'r1', '2026-01-01 00:00:03'),
          ('e4', 'u1', 50, 200, 'refund', 'r1', '2026-01-01 00:00:04'),
          ('e5', 'u1', -50, 150, 'reserve', 'r1', '2026-01-01 00:00:05'),
          ('e6', 'u1', 20, 170, 'refund', 'r1', '2026-01-01 00:00:06'),
          ('e7', 'u1', -50, 120, 'reserve', 'r2', '2026-01-01 00:00:07'),
          ('e8', 'u1', -40, 80, 'reserve', 'm1', '2026-01-01 00:00:08'),
          ('e9', 'u1', 10, 90, 'refund', 'm1', '2026-01-01 00:00:09'),
          ('e10', 'u1', 40, 130, 'refund', 'm1', '2026-01-01 00:00:10');
      `);
      await db.exec(await sqlOf(names[index]!));

      const entries = await db.rows<{ id: string; delta: number; kind: string; reference: string }>(
        'SELECT id, delta, kind, reference FROM "CreditLedgerEntry" ORDER BY "createdAt"',
      );
      expect(entries.map((entry) => [entry.id, entry.delta, entry.kind, entry.reference])).toEqual([
        ['e1', 100, 'grant', 'admin'],
        ['e2', 100, 'grant', 'admin'],
        ['e3', -50, 'reserve', 'r1'],
        ['e4', 50, 'refund', 'r1'],
        ['e5', -50, 'reserve', 'r1:2'],
        ['e6', 20, 'refund', 'r1:2'],
        ['e7', -50, 'reserve', 'r2'],
        ['e8', -40, 'reserve', 'm1'],
        ['e9', 10, 'refund', 'm1'],
        ['e10', 40, 'refund', 'm1:2'],
      ]);
      expect(await db.rows('SELECT id, attempt FROM "BatchRequest" ORDER BY id')).toEqual([
        { id: 'r1', attempt: 2 },
        { id: 'r2', attempt: 1 },
      ]);
      await expect(
        db.exec(
          `INSERT INTO "CreditLedgerEntry" (id, "userId", delta, "balanceAfter", kind, reference) VALUES ('e11', 'u1', 1, 1, 'refund', 'r2'), ('e12', 'u1', 1, 1, 'refund', 'r2')`,
        ),
      ).rejects.toThrow(/unique/i);
      await db.exec(`INSERT INTO "CreditLedgerEntry" (id, "userId", delta, "balanceAfter", kind, reference) VALUES ('e13', 'u1', 1, 1, 'grant', 'admin')`);
    } finally {
      await db.close();
    }
  });
});
