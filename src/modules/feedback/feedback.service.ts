import type { FeedbackKind, PrismaClient } from '../../generated/prisma/client.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { Actor } from '../identity/actor.js';
import type { ConversationAccessService } from '../encryption/conversation-access.js';

export interface FeedbackRequest {
  messageId: string;
  kind: FeedbackKind;
  value?: number | null;
  status?: string | null;
  comment?: string | null;
  details?: unknown;
  /** The encryption secret, for feedback on an encrypted conversation. */
  secret?: string | null;
}

/** The value a kind stores: thumbs are 1/-1 (implied when omitted), ratings 1..5. */
function valueFor(kind: FeedbackKind, value: number | null | undefined): number {
  if (kind === 'RATING') {
    if (value === null || value === undefined || !Number.isInteger(value) || value < 1 || value > 5) throw badInput('feedback.rating');
    return value;
  }
  const implied = kind === 'THUMBS_UP' ? 1 : -1;
  if (value !== null && value !== undefined && value !== implied) throw badInput('feedback.thumbs', { kind, value: implied });
  return implied;
}

export function isPositive(feedback: { kind: FeedbackKind; value: number | null }) {
  return feedback.kind === 'THUMBS_UP' || (feedback.kind === 'RATING' && (feedback.value ?? 0) >= 4);
}

export function isNegative(feedback: { kind: FeedbackKind; value: number | null }) {
  return feedback.kind === 'THUMBS_DOWN' || (feedback.kind === 'RATING' && (feedback.value ?? 0) <= 2);
}

export function createFeedbackService(prisma: PrismaClient, access: ConversationAccessService) {
  return {
    /** One feedback per user per reply: submitting again replaces it. */
    async submit(actor: Actor, input: FeedbackRequest) {
      const message = await prisma.message.findFirst({
        where: { id: input.messageId, role: 'ASSISTANT', conversation: { ownerId: actor.userId } },
        select: { id: true, conversation: { select: { privacy: true } } },
      });
      if (!message) throw notFound('Message', input.messageId);
      if (input.status && input.status.length > 64) throw badInput('feedback.status', { max: 64 });
      if (input.comment && input.comment.length > 2_000) throw badInput('feedback.comment', { max: 2_000 });
      // On an encrypted conversation the free text is sealed like its messages.
      const hasText = Boolean(input.comment) || (input.details !== undefined && input.details !== null);
      const sealing = message.conversation.privacy !== 'PUBLIC' && hasText;
      const seal = sealing ? (await access.forPrivacy(actor, message.conversation.privacy, input.secret)).seal : async (text: string) => text;
      const details =
        input.details === undefined || input.details === null ? undefined : sealing ? { sealed: await seal(JSON.stringify(input.details)) } : input.details;
      const data = {
        kind: input.kind,
        value: valueFor(input.kind, input.value),
        status: input.status ?? null,
        comment: input.comment ? await seal(input.comment) : null,
        details: details as never,
      };
      return prisma.feedback.upsert({
        where: { messageId_userId: { messageId: message.id, userId: actor.userId } },
        create: { ...data, messageId: message.id, userId: actor.userId },
        update: data,
      });
    },

    async summary(actor: Actor, conversationId: string) {
      const conversation = await prisma.conversation.findFirst({ where: { id: conversationId, ownerId: actor.userId }, select: { id: true } });
      if (!conversation) throw notFound('Conversation', conversationId);
      const [totalMessages, details] = await Promise.all([
        prisma.message.count({ where: { conversationId, role: 'ASSISTANT' } }),
        prisma.feedback.findMany({ where: { userId: actor.userId, message: { conversationId } }, orderBy: { updatedAt: 'desc' } }),
      ]);
      const ratings = details.filter((feedback) => feedback.kind === 'RATING').map((feedback) => feedback.value ?? 0);
      return {
        conversationId,
        totalMessages,
        messagesWithFeedback: new Set(details.map((feedback) => feedback.messageId)).size,
        positive: details.filter(isPositive).length,
        negative: details.filter(isNegative).length,
        averageRating: ratings.length === 0 ? null : Math.round((ratings.reduce((sum, value) => sum + value, 0) / ratings.length) * 100) / 100,
        details,
      };
    },
  };
}

export type FeedbackService = ReturnType<typeof createFeedbackService>;
