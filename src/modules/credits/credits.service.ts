import type { PrismaClient } from '../../generated/prisma/client.js';
import { UserFacingError } from '../../lib/errors.js';

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
type Client = PrismaClient | Transaction;

/** Credits are micro-USD of provider cost, rounded up so a call never costs nothing. */
export function creditsFor(usd: number): number {
  return Math.ceil(usd * 1_000_000 - 1e-9);
}

/**
 * Token credits: every change is one ledger row written in the same
 * transaction as the balance, and a debit is a single conditional UPDATE, so
 * concurrent calls can never take the balance below zero.
 */
export function createCreditsService(prisma: PrismaClient) {
  async function credit(client: Client, userId: string, amount: number, kind: string, reference?: string) {
    if (amount <= 0) return;
    const { creditBalance } = await client.user.update({ where: { id: userId }, data: { creditBalance: { increment: amount } }, select: { creditBalance: true } });
    await client.creditLedgerEntry.create({ data: { userId, delta: amount, balanceAfter: creditBalance, kind, reference } });
  }

  return {
    creditsFor,

    /** Adds credits (a grant or a purchase). */
    grant: (userId: string, amount: number, reference?: string, client: Client = prisma) => credit(client, userId, amount, 'grant', reference),

    /** Takes `amount` if the balance covers it; INSUFFICIENT_CREDITS otherwise. Call inside the transaction that needs it. */
    async reserve(client: Client, userId: string, amount: number, reference: string, kind: 'reserve' | 'charge' = 'reserve') {
      const [debited] = await client.user.updateManyAndReturn({
        where: { id: userId, creditBalance: { gte: amount } },
        data: { creditBalance: { decrement: amount } },
        select: { creditBalance: true },
      });
      if (!debited) {
        const balance = (await client.user.findUnique({ where: { id: userId }, select: { creditBalance: true } }))?.creditBalance ?? 0;
        throw new UserFacingError('INSUFFICIENT_CREDITS', 'credits.insufficient', { required: amount, balance }, { required: amount, balance });
      }
      await client.creditLedgerEntry.create({ data: { userId, delta: -amount, balanceAfter: debited.creditBalance, kind, reference } });
    },

    /** Returns what a reservation did not use; the charge never exceeds the reservation. */
    async settle(userId: string, reserved: number, used: number, reference: string) {
      const refund = reserved - Math.min(reserved, used);
      if (refund > 0) await prisma.$transaction((transaction) => credit(transaction, userId, refund, 'refund', reference));
    },

    async balance(userId: string): Promise<number> {
      const user = await prisma.user.findUnique({ where: { id: userId }, select: { creditBalance: true } });
      return user?.creditBalance ?? 0;
    },
  };
}

export type CreditsService = ReturnType<typeof createCreditsService>;
export type { Transaction };
