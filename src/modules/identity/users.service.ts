import type { PrismaClient, Tier, User } from '../../generated/prisma/client.js';
import type { Config } from '../../lib/config.js';
import type { CreditsService } from '../credits/credits.service.js';

export interface NewUser {
  email?: string | null;
  name?: string | null;
  authSubject?: string | null;
  deviceId?: string | null;
  platform?: string | null;
  tier?: Tier;
}

/** Creates users with their tier's starting credits, recorded in the ledger. */
export function createUsersService(prisma: PrismaClient, config: Config, credits: CreditsService) {
  return {
    async create(data: NewUser): Promise<User> {
      const tier = data.tier ?? 'FREE';
      return prisma.$transaction(async (transaction) => {
        const user = await transaction.user.create({ data: { ...data, email: data.email?.toLowerCase() ?? null, tier } });
        await credits.grant(user.id, config.tiers[tier].initialCredits, 'initial', transaction);
        return transaction.user.findUniqueOrThrow({ where: { id: user.id } });
      });
    },
  };
}

export type UsersService = ReturnType<typeof createUsersService>;
