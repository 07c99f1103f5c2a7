import type { Message, Prisma, PrismaClient } from '../../generated/prisma/client.js';
import { traced } from '../../lib/tracing.js';
import type { MessageStatus } from '../../generated/prisma/enums.js';
import { notFound } from '../../lib/errors.js';
import { sqlNow } from '../../lib/sql.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { Actor } from '../identity/actor.js';
import type { ToolCallData } from './message-events.js';
import type { ToolAnswers } from './tool-answers.js';
import { type TurnToStore, writeTurn } from './turn-writer.js';

/** Statuses of a reply that is still being written; only such a row can be finished. */
export const unfinished = ['PENDING', 'STREAMING'] as const;
/** A reply that called client functions and waits for their results. */
export const awaitingResults = 'REQUIRES_ACTION';
export const isUnfinished = (status: string) => unfinished.includes(status as (typeof unfinished)[number]);

/** What the final write of a reply stores. */
export interface FinishedReply {
  messageId: string;
  status: MessageStatus;
  content: string;
  reasoning: string;
  modelId: string;
  lastSeq: number;
  toolCalls: ToolCallData[];
  /** Kept on a reply that waits for tool results: what its continuation is offered. */
  toolSetup?: unknown;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number | null;
  cachedInputTokens: number | null;
  /** USD actually owed: zero when the provider failed before producing anything. */
  cost: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  timeToFirstReasoningMs: number | null;
  error?: { code: string; message: string };
  completedAt: Date;
}

/**
 * Every SQL statement of a turn and of a reply. Writes that end a reply are
 * conditional on the row still being unfinished, so whoever ends it first
 * (its runner, a stop from another instance, the orphan sweep) is the only
 * one that goes on to settle credits, record usage and announce it.
 */
export function createMessageStore(prisma: PrismaClient, credits: CreditsService) {
  return {
    writeTurn: (turn: TurnToStore) => traced('chat.turn.write', { 'chat.replies': turn.replies.length }, () => writeTurn(prisma, turn)),

    /**
     * A regenerated reply (or the continuation of one that waited for tool
     * results: those are stored and the waiting reply completed with it), its
     * allowance and reservation, in one transaction.
     */
    async insertReply(
      actor: Actor,
      reply: { conversationId: string; modelId: string; parentId: string; reservation: number; answers?: ToolAnswers },
      freeMessageLimit: number | undefined,
      freeLimitExceeded: () => Error,
    ): Promise<Message> {
      const created = await prisma.$transaction(async (transaction) => {
        if (reply.answers) {
          const { count } = await transaction.message.updateMany({
            where: { id: reply.answers.messageId, status: awaitingResults },
            data: { status: 'COMPLETE', toolCalls: reply.answers.toolCalls as unknown as Prisma.InputJsonValue },
          });
          if (count === 0) throw reply.answers.notAwaiting();
        }
        const created = await transaction.message.create({
          data: { conversationId: reply.conversationId, role: 'ASSISTANT', status: 'STREAMING', modelId: reply.modelId, parentId: reply.parentId },
        });
        if (freeMessageLimit !== undefined) {
          const { count } = await transaction.user.updateMany({
            where: { id: actor.billedUserId, freeMessagesUsed: { lt: freeMessageLimit } },
            data: { freeMessagesUsed: { increment: 1 } },
          });
          if (count === 0) throw freeLimitExceeded();
        }
        await credits.reserve(transaction, actor.billedUserId, reply.reservation, created.id);
        await transaction.conversation.update({ where: { id: reply.conversationId }, data: { updatedAt: new Date() } });
        return created;
      });
      credits.announce(actor.billedUserId);
      return created;
    },

    async ownedConversation(actor: Actor, conversationId: string) {
      const conversation = await prisma.conversation.findFirst({ where: { id: conversationId, ownerId: actor.userId } });
      if (!conversation) throw notFound('Conversation', conversationId);
      return conversation;
    },

    async ownedMessage(actor: Actor, messageId: string) {
      const message = await prisma.message.findFirst({ where: { id: messageId, conversation: { ownerId: actor.userId } } });
      if (!message) throw notFound('Message', messageId);
      return message;
    },

    /** Whether the message is in one of the caller's conversations: every subscriber asks, so it is one raw statement. */
    async requireOwnedMessage(actor: Actor, messageId: string) {
      const [owned] = await prisma.$queryRaw<unknown[]>`
        SELECT 1 FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId" WHERE m.id = ${messageId} AND c."ownerId" = ${actor.userId}`;
      if (!owned) throw notFound('Message', messageId);
    },

    replyState: (messageId: string) => prisma.message.findUnique({ where: { id: messageId }, select: { status: true, lastSeq: true, conversationId: true } }),

    messagesByIds: (ids: string[]) => prisma.message.findMany({ where: { id: { in: ids } }, orderBy: { position: 'asc' } }),

    /** The replies a stop is aimed at: one message, or every unfinished reply of a conversation. */
    stopTargets(target: { messageId?: string | null; conversationId?: string | null }) {
      const where = target.messageId
        ? { id: target.messageId }
        : { conversationId: target.conversationId!, role: 'ASSISTANT' as const, status: { in: [...unfinished] } };
      return prisma.message.findMany({ where, select: { id: true, status: true } });
    },

    unfinishedReplyIds: async (conversationId: string) =>
      (await prisma.message.findMany({ where: { conversationId, status: { in: [...unfinished] } }, select: { id: true } })).map((row) => row.id),

    /** Streamed text so far; a reply that has already been ended is left alone. */
    async flushText(messageId: string, content: string, reasoning: string, atSeq: number) {
      await prisma.$executeRaw`UPDATE "Message" SET content = ${content}, reasoning = ${reasoning}, "lastSeq" = ${atSeq}
        WHERE id = ${messageId} AND status IN ('PENDING', 'STREAMING')`;
    },

    /**
     * The final write of a reply, raw because it runs once per reply and Prisma
     * would spend more CPU compiling it than the database running it. False when
     * the row was already ended by someone else: then the caller must not settle.
     */
    async finishReply(reply: FinishedReply): Promise<boolean> {
      const count = await prisma.$executeRaw`
        UPDATE "Message" SET content = ${reply.content}, reasoning = ${reply.reasoning}, status = CAST(${reply.status} AS "MessageStatus"),
          "modelId" = ${reply.modelId}, "lastSeq" = ${reply.lastSeq}, "toolCalls" = ${JSON.stringify(reply.toolCalls)}::jsonb,
          "toolSetup" = ${reply.toolSetup === undefined ? null : JSON.stringify(reply.toolSetup)}::jsonb,
          "inputTokens" = ${reply.inputTokens}, "outputTokens" = ${reply.outputTokens}, cost = ${reply.cost}::float8,
          "reasoningTokens" = ${reply.reasoningTokens}::int, "cachedInputTokens" = ${reply.cachedInputTokens}::int,
          "latencyMs" = ${reply.latencyMs}, "timeToFirstTokenMs" = ${reply.timeToFirstTokenMs}::int,
          "timeToFirstReasoningMs" = ${reply.timeToFirstReasoningMs}::int,
          "errorCode" = ${reply.error?.code ?? null}, "errorMessage" = ${reply.error?.message ?? null},
          "completedAt" = CAST(${reply.completedAt.toISOString()} AS timestamp(3))
        WHERE id = ${reply.messageId} AND status IN ('PENDING', 'STREAMING')`;
      return count === 1;
    },

    /**
     * This instance still runs these replies; returns those another instance has ended meanwhile.
     * A reply whose row is not stored yet (its provider was called while the turn is stored) is not ended.
     */
    async vouchFor(messageIds: string[]): Promise<string[]> {
      if (messageIds.length === 0) return [];
      const ended = await prisma.$queryRaw<Array<{ id: string }>>`
        WITH vouched AS (
          UPDATE "Message" SET "heartbeatAt" = ${sqlNow()}
          WHERE id = ANY(${messageIds}::text[]) AND status IN ('PENDING', 'STREAMING') RETURNING id
        )
        SELECT id FROM "Message" WHERE id = ANY(${messageIds}::text[]) AND status NOT IN ('PENDING', 'STREAMING')`;
      return ended.map((row) => row.id);
    },

    /** Unfinished replies nobody has vouched for since `before` (or, with no `before`, every one not in `except`). */
    async abandonedReplies(except: string[], before?: Date) {
      const rows = await prisma.message.findMany({
        where: { status: { in: [...unfinished] }, id: { notIn: except }, ...(before ? staleWhere(before) : {}) },
        select: { id: true },
        take: 100,
      });
      return rows.map((row) => row.id);
    },

    orphan: (messageId: string) =>
      prisma.message.findUnique({
        where: { id: messageId },
        select: {
          conversationId: true,
          content: true,
          reasoning: true,
          lastSeq: true,
          status: true,
          modelId: true,
          createdAt: true,
          conversation: { select: { privacy: true, ownerId: true } },
        },
      }),

    /** Ends a reply nobody runs; false when it was ended (or vouched for again) meanwhile. */
    async endOrphan(
      messageId: string,
      end: { status: 'STOPPED' | 'FAILED'; content: string; reasoning: string; lastSeq: number; error?: { code: string; message: string } },
      staleBefore?: Date,
    ) {
      const { count } = await prisma.message.updateMany({
        where: { id: messageId, status: { in: [...unfinished] }, ...(staleBefore ? staleWhere(staleBefore) : {}) },
        data: {
          status: end.status,
          content: end.content,
          reasoning: end.reasoning,
          lastSeq: end.lastSeq,
          completedAt: new Date(),
          ...(end.error ? { errorCode: end.error.code, errorMessage: end.error.message } : {}),
        },
      });
      return count === 1;
    },

    reservationOf: (messageId: string) => prisma.creditLedgerEntry.findFirst({ where: { reference: messageId, kind: 'reserve' } }),
  };
}

const staleWhere = (before: Date) => ({ OR: [{ heartbeatAt: { lt: before } }, { heartbeatAt: null, createdAt: { lt: before } }] });

export type MessageStore = ReturnType<typeof createMessageStore>;
