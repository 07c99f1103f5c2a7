import type { Conversation, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { ChatService } from '../chat/chat.service.js';
import type { TemplatesService } from '../templates/templates.service.js';
import type { ConversationAccessService } from '../encryption/conversation-access.js';
import type { Actor } from '../identity/actor.js';

export type HistoryPeriod = 'TODAY' | 'LAST_7_DAYS' | 'LAST_30_DAYS' | 'LAST_MONTH' | 'ALL';

const DAY = 24 * 60 * 60 * 1000;
const MAX_TITLE_LENGTH = 200;

/** The updatedAt range a history period covers; LAST_MONTH is the previous calendar month (UTC). */
export function periodRange(period: HistoryPeriod, now = new Date()): { gte?: Date; lt?: Date } {
  switch (period) {
    case 'TODAY':
      return { gte: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate())) };
    case 'LAST_7_DAYS':
      return { gte: new Date(now.getTime() - 7 * DAY) };
    case 'LAST_30_DAYS':
      return { gte: new Date(now.getTime() - 30 * DAY) };
    case 'LAST_MONTH':
      return {
        gte: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)),
        lt: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)),
      };
    case 'ALL':
      return {};
  }
}

export function createConversationService(prisma: PrismaClient, chat: ChatService, templates: TemplatesService, access: ConversationAccessService) {
  return {
    /** Later turns use this template (checked now, so a missing variable fails here, not mid-chat). */
    async setTemplate(actor: Actor, id: string, templateName: string, variables: unknown, query: object = {}) {
      const conversation = await prisma.conversation.findFirst({ where: { id, ownerId: actor.userId }, select: { id: true } });
      if (!conversation) throw notFound('Conversation', id);
      await templates.validateChoice(actor, templateName, variables);
      return prisma.conversation.update({
        ...query,
        where: { id },
        data: { templateName, templateVariables: (variables ?? {}) as never },
      });
    },

    /** The filter every list of the actor's conversations starts from. */
    listWhere(actor: Actor, period: HistoryPeriod | null | undefined) {
      const range = periodRange(period ?? 'ALL');
      return { ownerId: actor.userId, ...(range.gte || range.lt ? { updatedAt: range } : {}) };
    },

    /** `shape` is what the answer reads (relations, counts), loaded with the renamed row. */
    async rename(
      actor: Actor,
      id: string,
      title: string,
      secret?: string | null,
      shape: { include?: Prisma.ConversationInclude; select?: Prisma.ConversationSelect } = {},
    ) {
      const trimmed = title.trim();
      if (trimmed.length < 1 || trimmed.length > MAX_TITLE_LENGTH) throw badInput('input.titleLength', { max: MAX_TITLE_LENGTH });
      const conversation = await prisma.conversation.findFirst({ where: { id, ownerId: actor.userId }, select: { privacy: true } });
      if (!conversation) throw notFound('Conversation', id);
      const { seal } = await access.forPrivacy(actor, conversation.privacy, secret);
      const { count } = await prisma.conversation.updateMany({ where: { id, ownerId: actor.userId }, data: { title: await seal(trimmed) } });
      if (count === 0) throw notFound('Conversation', id);
      return prisma.conversation.findUniqueOrThrow({ ...shape, where: { id } } as never) as Promise<Conversation>;
    },

    async delete(actor: Actor, id: string): Promise<boolean> {
      const conversation = await prisma.conversation.findFirst({ where: { id, ownerId: actor.userId }, select: { id: true } });
      if (!conversation) throw notFound('Conversation', id);
      await chat.stopConversation(id);
      await prisma.conversation.delete({ where: { id } });
      return true;
    },
  };
}

export type ConversationService = ReturnType<typeof createConversationService>;
