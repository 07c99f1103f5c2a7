import type { PrismaClient } from '../../generated/prisma/client.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { ConversationAccessService } from '../encryption/conversation-access.js';
import type { EncryptionService, UnlockedKeys } from '../encryption/encryption.service.js';
import { bytesSealer } from '../encryption/sealed-bytes.js';
import type { FilesService, SealedStorage } from '../files/files.service.js';
import type { Actor } from '../identity/actor.js';
import type { UsageService } from '../usage/usage.service.js';
import { type ExportDocument, type ExportMessage, renderJson, renderMarkdown, renderPdf } from './export-render.js';

export type ExportFormat = 'PDF' | 'MARKDOWN' | 'JSON';

const FORMATS: Record<ExportFormat, { extension: string; render: (document: ExportDocument) => Promise<Uint8Array> | Uint8Array }> = {
  PDF: { extension: 'pdf', render: renderPdf },
  MARKDOWN: { extension: 'md', render: (document) => new TextEncoder().encode(renderMarkdown(document)) },
  JSON: { extension: 'json', render: (document) => new TextEncoder().encode(renderJson(document)) },
};

const DRAWABLE = new Set(['image/png', 'image/jpeg']);

export interface ExportsDeps {
  prisma: PrismaClient;
  access: ConversationAccessService;
  encryption: EncryptionService;
  files: FilesService;
  usage: UsageService;
}

/** A conversation, or one reply and the message it answers, as a document stored with an expiry like an unattached upload. */
export function createExportsService(deps: ExportsDeps) {
  const { prisma } = deps;

  async function readable(text: string, privacy: string, keys: UnlockedKeys | null): Promise<string> {
    if (privacy === 'PUBLIC') return text;
    const opened = await deps.encryption.open(text, keys);
    if (opened === null) throw badInput('encryption.secretRequired');
    return opened;
  }

  async function messagesOf(conversationId: string, messageId: string | null) {
    const include = { attachments: { include: { file: true } } } as const;
    if (!messageId) return prisma.message.findMany({ where: { conversationId }, orderBy: { position: 'asc' }, include });
    const reply = await prisma.message.findFirst({ where: { id: messageId, conversationId }, include });
    if (!reply) throw notFound('Message', messageId);
    const question = reply.parentId && reply.role === 'ASSISTANT' ? await prisma.message.findFirst({ where: { id: reply.parentId }, include }) : null;
    return question ? [question, reply] : [reply];
  }

  async function documentOf(actor: Actor, conversationId: string, messageId: string | null, secret: string | null | undefined) {
    const conversation = await prisma.conversation.findFirst({ where: { id: conversationId, ownerId: actor.userId } });
    if (!conversation) throw notFound('Conversation', conversationId);
    const { keys, seal } = await deps.access.forPrivacy(actor, conversation.privacy, secret);
    const messages: ExportMessage[] = [];
    for (const message of await messagesOf(conversation.id, messageId)) {
      const files = message.attachments.map((attachment) => attachment.file);
      const images = await Promise.all(
        files.filter((file) => DRAWABLE.has(file.mimeType)).map(async (file) => ({ filename: file.filename, bytes: await deps.files.bytesOf(file) })),
      );
      messages.push({
        id: message.id,
        role: message.role,
        content: await readable(message.content, conversation.privacy, keys),
        model: message.modelId,
        status: message.status,
        createdAt: message.createdAt,
        images,
        attachments: files.map((file) => file.filename),
      });
    }
    const document: ExportDocument = { title: await readable(conversation.title, conversation.privacy, keys), exportedAt: new Date(), messages };
    // An encrypted conversation's export is stored under its key, like its messages.
    const sealed: SealedStorage | null = conversation.privacy === 'PUBLIC' ? null : { conversationId: conversation.id, seal: bytesSealer(seal) };
    return { document, sealed };
  }

  return {
    async export(actor: Actor, input: { conversationId: string; format: ExportFormat; messageId?: string | null; secret?: string | null }) {
      const { document, sealed } = await documentOf(actor, input.conversationId, input.messageId ?? null, input.secret);
      const format = FORMATS[input.format];
      const bytes = await format.render(document);
      const safeTitle =
        document.title
          .replace(/[^\p{L}\p{N} _-]+/gu, '')
          .trim()
          .slice(0, 80) || 'conversation';
      // No extracted copy of the text: for an encrypted conversation that would be its plaintext in a database column.
      const file = await deps.files.saveGenerated(actor, bytes, `${safeTitle}.${format.extension}`, null, { extract: false, sealed });
      await deps.usage.record({ actor, modelId: `export-${format.extension}`, action: 'EXPORT', cost: 0, success: true });
      return file;
    },
  };
}

export type ExportsService = ReturnType<typeof createExportsService>;
