import type { PrismaClient, UploadedFile } from '../../generated/prisma/client.js';
import { UserFacingError } from '../../lib/errors.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { ConversationAccess } from '../encryption/conversation-access.js';
import type { EncryptionService } from '../encryption/encryption.service.js';
import { type FilesService, isImage } from '../files/files.service.js';
import type { Actor } from '../identity/actor.js';
import type { ContextFile, StoredTurn } from './context-builder.js';

export interface TurnContextDeps {
  prisma: PrismaClient;
  encryption: EncryptionService;
  files: FilesService;
  maxFilesPerRequest: number;
}

/** Fields of the stored turns a context is built from. */
export const turnFields = {
  id: true,
  role: true,
  content: true,
  status: true,
  parentId: true,
  modelId: true,
  position: true,
  toolCalls: true,
  _count: { select: { attachments: true } },
} as const;

/**
 * What a turn's context is made of besides the new message: the stored turns
 * as the model should read them (opened when encrypted), and their files.
 */
export function createTurnContext(deps: TurnContextDeps) {
  const { prisma } = deps;

  /** Stored turns as the model should read them; turns these keys cannot open are left out. */
  async function readableTurns<T extends StoredTurn>(turns: T[], access: ConversationAccess): Promise<T[]> {
    if (access.privacy === 'PUBLIC') return turns;
    const opened = await Promise.all(turns.map(async (turn) => ({ turn, content: await deps.encryption.open(turn.content, access.keys) })));
    return opened.flatMap(({ turn, content }) => (content === null ? [] : [{ ...turn, content }]));
  }

  async function readableConversation<T extends { systemPrompt: string | null }>(conversation: T | null, access: ConversationAccess): Promise<T | null> {
    if (!conversation?.systemPrompt || access.privacy === 'PUBLIC') return conversation;
    return { ...conversation, systemPrompt: await deps.encryption.open(conversation.systemPrompt, access.keys) };
  }

  async function storedTurns(conversationId: string | undefined, access: ConversationAccess) {
    if (!conversationId) return { all: [], readable: [] };
    const turns = await prisma.message.findMany({ where: { conversationId }, orderBy: { position: 'asc' }, select: turnFields });
    return { all: turns, readable: await readableTurns(turns, access) };
  }

  async function contextFiles(files: UploadedFile[]): Promise<ContextFile[]> {
    return Promise.all(
      files.map(async (file) => ({ filename: file.filename, text: file.text, imageUrl: isImage(file) ? await deps.files.dataUrl(file) : undefined })),
    );
  }

  /**
   * Gives the user turns of a branch their attachments, so a follow-up still
   * sees the files asked about earlier. Images go as pixels only when every
   * model answering can see; otherwise the model is told one was there.
   */
  async function withFiles(branch: StoredTurn[], models: CatalogModel[]): Promise<StoredTurn[]> {
    const questionIds = branch.filter((turn) => turn.role === 'USER' && turn._count?.attachments).map((turn) => turn.id);
    if (questionIds.length === 0) return branch;
    const attachments = await prisma.messageAttachment.findMany({
      where: { messageId: { in: questionIds } },
      include: { file: true },
      orderBy: { file: { createdAt: 'asc' } },
    });
    if (attachments.length === 0) return branch;
    const vision = models.every((model) => model.modalities.includes('image'));
    const fileOf = async (file: UploadedFile): Promise<ContextFile> => {
      if (!isImage(file)) return { filename: file.filename, text: file.text };
      if (!vision) return { filename: file.filename, text: '(an image this model cannot see)' };
      return { filename: file.filename, text: null, imageUrl: await deps.files.dataUrl(file) };
    };
    const filesOf = (messageId: string) => Promise.all(attachments.filter((attachment) => attachment.messageId === messageId).map(({ file }) => fileOf(file)));
    return Promise.all(branch.map(async (turn) => (turn.role === 'USER' ? { ...turn, files: await filesOf(turn.id) } : turn)));
  }

  /** Referenced files must be the caller's; inline ones and those named by URL are stored now (and removed again if the turn fails). */
  async function gatherFiles(
    actor: Actor,
    input: { fileIds?: string[] | null; attachments?: File[] | null; fileUrls?: string[] | null },
    conversationId: string | null,
  ) {
    const count = (input.fileIds?.length ?? 0) + (input.attachments?.length ?? 0) + (input.fileUrls?.length ?? 0);
    if (count > deps.maxFilesPerRequest) {
      const limit = deps.maxFilesPerRequest;
      throw new UserFacingError('PAYLOAD_TOO_LARGE', 'files.tooMany', { limit }, { limit });
    }
    const referenced = await deps.files.forMessage(actor, input.fileIds ?? []);
    const inline: UploadedFile[] = [];
    try {
      for (const file of input.attachments ?? []) inline.push(await deps.files.upload(actor, file, conversationId));
      for (const url of input.fileUrls ?? []) inline.push(await deps.files.uploadFromUrl(actor, url, conversationId));
    } catch (error) {
      await deps.files.remove(
        actor,
        inline.map((file) => file.id),
      );
      throw error;
    }
    return { files: [...referenced, ...inline], inline };
  }

  return { readableTurns, readableConversation, storedTurns, contextFiles, withFiles, gatherFiles };
}

export type TurnContext = ReturnType<typeof createTurnContext>;
