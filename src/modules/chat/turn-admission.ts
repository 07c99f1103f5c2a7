import type { PrismaClient } from '../../generated/prisma/client.js';
import { UserFacingError } from '../../lib/errors.js';
import type { Actor } from '../identity/actor.js';
import type { LimitsService } from '../limits/limits.service.js';
import { type PlanSettings, takesFreeAllowance } from './turn-plan.js';

/** Rate limits before a turn, and why a turn's debit was refused after it. */
export function createTurnAdmission(deps: { prisma: PrismaClient; limits: LimitsService; settings: PlanSettings }) {
  const { settings } = deps;

  function freeLimitExceeded(actor: Actor) {
    const limit = settings.freeMessageThreshold;
    return new UserFacingError(
      'FREE_LIMIT_EXCEEDED',
      actor.isGuest ? 'limits.freeGuest' : 'limits.freeUser',
      { limit },
      { requiresSignup: actor.isGuest, limit },
    );
  }

  return {
    /** Counts the request against the caller's rate limits; the allowance and credits are taken with the rows. */
    async countRequest(actor: Actor) {
      await deps.limits.consumeChatRequest({ userId: actor.billedUserId, tier: actor.tier, isGuest: actor.isGuest, freeMessagesUsed: 0 });
    },

    /** The free-message limit to take from, when the caller has one. */
    freeAllowanceOf: (actor: Actor) => (takesFreeAllowance(settings, actor) ? settings.freeMessageThreshold : undefined),

    freeLimitExceeded,

    /** Why a turn's debit was refused: the free allowance is reported before credits, as it is checked first. */
    async refusal(actor: Actor, required: number) {
      const user = await deps.prisma.user.findUnique({ where: { id: actor.billedUserId }, select: { creditBalance: true, freeMessagesUsed: true } });
      if (takesFreeAllowance(settings, actor) && (user?.freeMessagesUsed ?? 0) >= settings.freeMessageThreshold) return freeLimitExceeded(actor);
      const balance = user?.creditBalance ?? 0;
      return new UserFacingError('INSUFFICIENT_CREDITS', 'credits.insufficient', { required, balance }, { required, balance });
    },
  };
}

export type TurnAdmission = ReturnType<typeof createTurnAdmission>;
