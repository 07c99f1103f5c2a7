import type { PrismaClient, Tier } from '../../generated/prisma/client.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { ApiKeysService, NewApiKey } from './api-keys.service.js';
import type { NewUser, UsersService } from './users.service.js';

/** What operators do from the command line (and tests do to set the scene). */
export function createAdminService(prisma: PrismaClient, users: UsersService, credits: CreditsService, apiKeys: ApiKeysService) {
  async function userByEmail(email: string) {
    const user = await prisma.user.findUnique({ where: { email: email.toLowerCase() } });
    if (!user) throw new Error(`No user with email ${email}`);
    return user;
  }

  return {
    userByEmail,
    createUser: (data: NewUser & { isOperator?: boolean }) =>
      users.create(data).then((user) => (data.isOperator ? prisma.user.update({ where: { id: user.id }, data: { isOperator: true } }) : user)),
    async setTier(userId: string, tier: Tier) {
      const user = await prisma.user.update({ where: { id: userId }, data: { tier } });
      credits.announce(userId);
      return user;
    },
    setOperator: (userId: string, isOperator: boolean) => prisma.user.update({ where: { id: userId }, data: { isOperator } }),
    grantCredits: (userId: string, amount: number) => credits.grant(userId, amount, 'admin'),
    /** Sets the balance to exactly `amount` through one ledger entry. */
    async setCredits(userId: string, amount: number) {
      await prisma.$transaction(async (transaction) => {
        // A no-op increment locks the row, so a refund or charge landing meanwhile waits and lands on top of the new balance.
        const { creditBalance } = await transaction.user.update({
          where: { id: userId },
          data: { creditBalance: { increment: 0 } },
          select: { creditBalance: true },
        });
        const delta = amount - creditBalance;
        if (delta === 0) return;
        await transaction.user.update({ where: { id: userId }, data: { creditBalance: amount } });
        await transaction.creditLedgerEntry.create({ data: { userId, delta, balanceAfter: amount, kind: 'admin' } });
      });
      credits.announce(userId);
    },
    createTeam: (ownerId: string, name: string) => prisma.team.create({ data: { name, ownerId, members: { create: { userId: ownerId } } } }),
    addTeamMember: (teamId: string, userId: string) =>
      prisma.teamMember.upsert({ where: { teamId_userId: { teamId, userId } }, create: { teamId, userId }, update: {} }),
    createApiKey: (ownerId: string, input: NewApiKey) => apiKeys.issue(ownerId, input),
  };
}

export type AdminService = ReturnType<typeof createAdminService>;
