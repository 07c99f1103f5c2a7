import type { PrismaClient } from '../../generated/prisma/client.js';
import { v7 as uuidv7 } from 'uuid';
import { UserFacingError } from '../../lib/errors.js';
import { sqlNow } from '../../lib/sql.js';

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
type Client = PrismaClient | Transaction;

/** Credits are micro-USD of provider cost, rounded up so a call never costs nothing. */
export function creditsFor(usd: number): number {
  return Math.ceil(usd * 1_000_000 - 1e-9);
}

/**
 * Token credits: every change is one statement that moves the balance and
 * writes its ledger row, and a debit only happens where the balance covers it,
 * so concurrent calls can never take the balance below zero.
 */
export function createCreditsService(prisma: PrismaClient, onChanged: (userId: string) => void = () => {}) {
  /** Moves the balance by `delta` unless that would take it below zero; returns the new balance, or null when refused. */
  async function change(client: Client, userId: string, delta: number, kind: string, reference?: string): Promise<number | null> {
    const now = sqlNow();
    const [entry] = await client.$queryRaw<Array<{ balanceAfter: number }>>`
      WITH changed AS (
        UPDATE "User" SET "creditBalance" = "creditBalance" + ${delta}::int, "updatedAt" = ${now}
        WHERE id = ${userId} AND "creditBalance" + ${delta}::int >= 0
        RETURNING "creditBalance"
      )
      INSERT INTO "CreditLedgerEntry" (id, "userId", delta, "balanceAfter", kind, reference, "createdAt")
      SELECT ${uuidv7()}, ${userId}, ${delta}::int, "creditBalance", ${kind}, ${reference ?? null}, ${now} FROM changed
      RETURNING "balanceAfter"`;
    // Inside a transaction a follower would read the balance before it commits: the caller announces after.
    if (entry && client === prisma) onChanged(userId);
    return entry ? entry.balanceAfter : null;
  }

  async function credit(client: Client, userId: string, amount: number, kind: string, reference?: string) {
    if (amount > 0) await change(client, userId, amount, kind, reference);
  }

  return {
    creditsFor,

    /** Adds credits (a grant or a purchase). */
    grant: (userId: string, amount: number, reference?: string, client: Client = prisma) => credit(client, userId, amount, 'grant', reference),

    /**
     * Takes `amount` if the balance covers it; INSUFFICIENT_CREDITS otherwise. Atomic on its own; pass a
     * transaction to tie it to other writes, and `announce` the change once that transaction has committed.
     */
    async reserve(client: Client, userId: string, amount: number, reference: string, kind: 'reserve' | 'charge' = 'reserve') {
      if ((await change(client, userId, -amount, kind, reference)) === null) {
        const balance = (await client.user.findUnique({ where: { id: userId }, select: { creditBalance: true } }))?.creditBalance ?? 0;
        throw new UserFacingError('INSUFFICIENT_CREDITS', 'credits.insufficient', { required: amount, balance }, { required: amount, balance });
      }
    },

    /**
     * Returns what a reservation did not use; the charge never exceeds the
     * reservation. A reference is settled once: its refund row (written even
     * when it returns nothing) is unique, and a settle that finds it already
     * written changes nothing and returns false. True when this call settled.
     */
    async settle(userId: string, reserved: number, used: number, reference: string): Promise<boolean> {
      const refund = reserved - Math.min(reserved, used);
      const now = sqlNow();
      // Locking the user row first serialises this with every other change to the balance, so balanceAfter is the
      // balance this refund really produced; the balance moves only if the ledger row was written (all parts of one
      // statement see the same snapshot, so the update is made to depend on the insert's output, not on a lookup).
      const rows = await prisma.$queryRaw<Array<{ balanceAfter: number }>>`
        WITH account AS (
          SELECT "creditBalance" FROM "User" WHERE id = ${userId} FOR UPDATE
        ), entry AS (
          INSERT INTO "CreditLedgerEntry" (id, "userId", delta, "balanceAfter", kind, reference, "createdAt")
          SELECT ${uuidv7()}, ${userId}, ${refund}::int, "creditBalance" + ${refund}::int, 'refund', ${reference}, ${now} FROM account
          ON CONFLICT (reference, kind) WHERE reference IS NOT NULL AND kind IN ('reserve', 'charge', 'refund') DO NOTHING
          RETURNING "balanceAfter"
        ), refunded AS (
          UPDATE "User" SET "creditBalance" = "creditBalance" + ${refund}::int, "updatedAt" = ${now}
          WHERE id = ${userId} AND ${refund}::int <> 0 AND EXISTS (SELECT 1 FROM entry)
        )
        SELECT "balanceAfter" FROM entry`;
      if (rows.length > 0) onChanged(userId);
      return rows.length > 0;
    },

    /** Tells followers of the user's account that something else changed it (a turn's own reservation, an operator's new balance). */
    announce: (userId: string) => onChanged(userId),

    async balance(userId: string): Promise<number> {
      const user = await prisma.user.findUnique({ where: { id: userId }, select: { creditBalance: true } });
      return user?.creditBalance ?? 0;
    },
  };
}

export type CreditsService = ReturnType<typeof createCreditsService>;
export type { Transaction };
