import { v7 as uuidv7 } from 'uuid';
import type { ContextCitation } from '../knowledge/knowledge-context.js';
import { Prisma, type Message, type PrismaClient } from '../../generated/prisma/client.js';
import type { Privacy } from '../../generated/prisma/enums.js';
import { sqlNow } from '../../lib/sql.js';

export interface TurnToStore {
  billedUserId: string;
  /** The free-message allowance to take from, when the caller has one. */
  freeMessageLimit?: number;
  conversation:
    | { id: string; template?: { name: string; variables: unknown } }
    | { id?: undefined; ownerId: string; title: string; systemPrompt: string | null; privacy: Privacy; template?: { name: string; variables: unknown } };
  question: { content: string; parentId: string | null; clientKey?: string | null };
  /** Knowledge passages every reply of the turn is given (stored on each reply). */
  citations?: ContextCitation[];
  fileIds: string[];
  replies: Array<{ modelId: string; reservation: number }>;
  /** Ids chosen before the turn is stored (a reply may start before its row exists); new ones otherwise. */
  ids?: TurnIds;
}

export interface TurnIds {
  conversationId: string;
  questionId: string;
  replyIds: string[];
}

/** Ids for a turn of `replies` replies, in `conversationId` or a new conversation. */
export function newTurnIds(conversationId: string | undefined, replies: number, generateId: () => string = uuidv7): TurnIds {
  return { conversationId: conversationId ?? generateId(), questionId: generateId(), replyIds: Array.from({ length: replies }, () => generateId()) };
}

export interface StoredTurn {
  conversationId: string;
  userMessage: Message;
  replies: Message[];
}

/** The turn's conversation statement: a new conversation, or the existing one touched (and its template kept). */
function conversationStatement(turn: TurnToStore, conversationId: string, now: Prisma.Sql): Prisma.Sql {
  const template = turn.conversation.template;
  const templateVariables = template ? JSON.stringify(template.variables ?? {}) : null;
  const given = turn.conversation;
  return given.id !== undefined
    ? Prisma.sql`UPDATE "Conversation" SET "updatedAt" = ${now},
          "templateName" = COALESCE(${template?.name ?? null}, "templateName"),
          "templateVariables" = CASE WHEN ${template ? 1 : 0} = 1 THEN ${templateVariables}::jsonb ELSE "templateVariables" END
        WHERE id = ${conversationId} AND EXISTS (SELECT 1 FROM debit) RETURNING id`
    : Prisma.sql`INSERT INTO "Conversation" (id, "ownerId", title, "systemPrompt", privacy, "templateName", "templateVariables", "createdAt", "updatedAt")
        SELECT ${conversationId}, ${given.ownerId}, ${given.title}, ${given.systemPrompt},
          CAST(${given.privacy} AS "Privacy"), ${template?.name ?? null}, ${templateVariables}::jsonb, ${now}, ${now}
        FROM debit RETURNING id`;
}

/**
 * Stores a turn in one SQL statement (null when refused, or when its client key
 * already made a turn): the allowance and credits are taken
 * first, and every insert reads from that debit, so a refused debit writes
 * nothing at all. One round trip instead of an interactive transaction keeps
 * the connection free between statements; that is what bounds how many sends
 * the single embedded connection can take.
 */
export async function writeTurn(prisma: PrismaClient, turn: TurnToStore): Promise<StoredTurn | null> {
  const { conversationId, questionId, replyIds } = turn.ids ?? newTurnIds(turn.conversation.id, turn.replies.length);
  const total = turn.replies.reduce((sum, reply) => sum + reply.reservation, 0);
  const takesAllowance = turn.freeMessageLimit !== undefined;
  const now = sqlNow();
  const conversation = conversationStatement(turn, conversationId, now);

  const citations = JSON.stringify(turn.citations ?? []);
  // Rows are inserted in this order, so `position` puts the question before its replies.
  const messageRows = [
    Prisma.sql`(0, ${questionId}, 'USER', ${turn.question.content}, 'COMPLETE', NULL, ${turn.question.parentId}::text, ${now}, ${turn.question.clientKey ?? null}::text, '[]'::jsonb)`,
    ...turn.replies.map(
      (reply, index) =>
        Prisma.sql`(${index + 1}::int, ${replyIds[index]!}, 'ASSISTANT', '', 'STREAMING', ${reply.modelId}::text, ${questionId}::text, NULL::timestamp(3), NULL::text, ${citations}::jsonb)`,
    ),
  ];
  // Each reservation is its own ledger row, the balance after it as if taken one by one.
  const ledgerRows = turn.replies.map((reply, index) => {
    const takenLater = turn.replies.slice(index + 1).reduce((sum, later) => sum + later.reservation, 0);
    return Prisma.sql`(${index}::int, ${uuidv7()}, ${-reply.reservation}::int, ${takenLater}::int, ${replyIds[index]!})`;
  });
  const attachments = turn.fileIds.length
    ? Prisma.sql`, attached AS (
        INSERT INTO "MessageAttachment" ("messageId", "fileId") SELECT ${questionId}, id FROM "UploadedFile" WHERE id = ANY(${turn.fileIds}::text[]) AND EXISTS (SELECT 1 FROM debit)
      ), kept AS (
        UPDATE "UploadedFile" SET "conversationId" = COALESCE("conversationId", ${conversationId}), "expiresAt" = NULL
        WHERE id = ANY(${turn.fileIds}::text[]) AND EXISTS (SELECT 1 FROM debit)
      )`
    : Prisma.empty;

  const rows = await prisma.$queryRaw<Message[]>`
    WITH debit AS (
      UPDATE "User" SET "creditBalance" = "creditBalance" - ${total},
        "freeMessagesUsed" = "freeMessagesUsed" + ${takesAllowance ? 1 : 0}, "updatedAt" = ${now}
      WHERE id = ${turn.billedUserId} AND "creditBalance" >= ${total}
        AND (${takesAllowance ? 1 : 0} = 0 OR "freeMessagesUsed" < ${turn.freeMessageLimit ?? 0})
        AND NOT EXISTS (SELECT 1 FROM "Message" WHERE "clientKey" = ${turn.question.clientKey ?? null}::text)
      RETURNING "creditBalance"
    ), conversation AS (${conversation}),
    messages AS (
      INSERT INTO "Message" (id, "conversationId", role, content, status, "modelId", "parentId", "createdAt", "completedAt", "clientKey", citations)
      SELECT row.id, conversation.id, CAST(row.role AS "Role"), row.content, CAST(row.status AS "MessageStatus"), row.model, row.parent, ${now}, row.completed, row.client_key, row.citations
      FROM (VALUES ${Prisma.join(messageRows)}) AS row(ord, id, role, content, status, model, parent, completed, client_key, citations)
      CROSS JOIN conversation ORDER BY row.ord
      RETURNING *
    ), ledger AS (
      INSERT INTO "CreditLedgerEntry" (id, "userId", delta, "balanceAfter", kind, reference, "createdAt")
      SELECT entry.id, ${turn.billedUserId}, entry.delta, debit."creditBalance" + entry.later, 'reserve', entry.reference, ${now}
      FROM (VALUES ${Prisma.join(ledgerRows)}) AS entry(ord, id, delta, later, reference) CROSS JOIN debit
    )${attachments}
    SELECT * FROM messages ORDER BY position`;
  if (rows.length === 0) return null;
  const byId = new Map(rows.map((row) => [row.id, row]));
  return { conversationId, userMessage: byId.get(questionId)!, replies: replyIds.map((id) => byId.get(id)!) };
}
