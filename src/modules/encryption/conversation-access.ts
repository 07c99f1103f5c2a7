import type { PrismaClient } from '../../generated/prisma/client.js';
import type { Privacy } from '../../generated/prisma/enums.js';
import { badInput } from '../../lib/errors.js';
import type { Actor } from '../identity/actor.js';
import type { EncryptionService, Sealer, UnlockedKeys } from './encryption.service.js';

export interface ConversationAccess {
  privacy: Privacy;
  /** Writes the conversation's text as its privacy requires. */
  seal: Sealer;
  /** Keys that open its stored text, when the caller gave the secret that can (null for PUBLIC). */
  keys: UnlockedKeys | null;
}

const asIs: Sealer = async (text) => text;

/** Who reads a member's TEAM_ENCRYPTED conversations: the owner whose key acts for them, or the owner of their team. */
export async function teamOwnerOf(prisma: PrismaClient, actor: Actor): Promise<string | null> {
  if (actor.billedUserId !== actor.userId) return actor.billedUserId;
  if (await prisma.team.count({ where: { ownerId: actor.userId } })) return actor.userId;
  const membership = await prisma.teamMember.findFirst({
    where: { userId: actor.userId },
    orderBy: { createdAt: 'asc' },
    select: { team: { select: { ownerId: true } } },
  });
  return membership?.team.ownerId ?? null;
}

export function createConversationAccess(prisma: PrismaClient, encryption: EncryptionService) {
  return {
    async forPrivacy(actor: Actor, privacy: Privacy, secret: string | null | undefined): Promise<ConversationAccess> {
      if (privacy === 'PUBLIC') return { privacy, seal: asIs, keys: null };
      if (privacy === 'PRIVATE_ENCRYPTED') {
        if (!secret) throw badInput('encryption.secretRequired');
        const keys = await encryption.unlock(actor.userId, secret);
        return { privacy, seal: await encryption.sealerFor(privacy, { keys }), keys };
      }
      const teamOwnerId = await teamOwnerOf(prisma, actor);
      const seal = await encryption.sealerFor(privacy, { teamOwnerId });
      // Members write; only the owner's secret opens what was written.
      const keys = secret && teamOwnerId === actor.billedUserId ? await encryption.unlock(teamOwnerId, secret) : null;
      return { privacy, seal, keys };
    },
  };
}

export type ConversationAccessService = ReturnType<typeof createConversationAccess>;
