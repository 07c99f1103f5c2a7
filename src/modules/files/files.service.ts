import { createHash } from 'node:crypto';
import { truncated } from '../../lib/text.js';
import type { Prisma, PrismaClient, UploadedFile } from '../../generated/prisma/client.js';
import { notFound, UserFacingError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Actor } from '../identity/actor.js';
import type { FileStore } from './file-store.js';
import { acceptedTypes, detectType } from './file-types.js';
import { extractOffThread } from './off-thread.js';
import type { ExtractionLimits } from './text-extraction.js';
import { fetchUrlSafely, type UrlFetchPolicy } from './url-fetch.js';

export interface FileLimits {
  maxFileBytes: number;
  maxConversationBytes: number;
  maxFilesPerRequest: number;
  /** Minutes a file not attached to a conversation is kept. */
  ttlMinutes: number;
  extraction: ExtractionLimits;
  /** How files named by URL are fetched; their size limit is maxFileBytes. */
  urls: Omit<UrlFetchPolicy, 'maxBytes'>;
}

/** What an image costs in context: OpenAI's figure for a high-detail 512 px tile set, used as an estimate for every vendor. */
export const IMAGE_TOKENS = 765;

const tooLarge = (limit: number, what: 'file' | 'conversation') =>
  new UserFacingError('PAYLOAD_TOO_LARGE', what === 'file' ? 'files.tooLarge' : 'files.conversationFull', { limit }, { limit });

/** Bytes kept sealed under a conversation's key; their row records the plaintext's type and size. */
export interface SealedStorage {
  conversationId: string;
  seal: (plaintext: Uint8Array) => Promise<Uint8Array>;
}

export const isImage = (file: Pick<UploadedFile, 'mimeType'>) => acceptedTypes[file.mimeType] === 'image';

export function createFilesService(prisma: PrismaClient, store: FileStore, limits: FileLimits, logger: Logger) {
  async function ownedConversation(actor: Actor, conversationId: string) {
    const conversation = await prisma.conversation.findFirst({ where: { id: conversationId, ownerId: actor.userId }, select: { id: true } });
    if (!conversation) throw notFound('Conversation', conversationId);
  }

  /** Drops bytes no row points at any more. */
  async function releaseBytes(sha256s: string[]) {
    for (const sha256 of new Set(sha256s)) {
      if ((await prisma.uploadedFile.count({ where: { sha256 } })) === 0) await store.delete(sha256);
    }
  }

  async function save(
    actor: Actor,
    bytes: Uint8Array,
    filename: string,
    conversationId: string | null,
    extract = true,
    sealed: SealedStorage | null = null,
  ): Promise<UploadedFile> {
    const { mimeType, kind } = await detectType(bytes, filename);
    const { text, tokenCount } = extract && !sealed ? await extractOffThread({ bytes, kind, limits: limits.extraction }) : { text: null, tokenCount: 0 };
    if (conversationId != null) await checkConversationRoom(conversationId, bytes.byteLength);
    // The store is addressed by the hash of what it holds: sealed bytes (a fresh IV each time) never share a copy with plaintext ones.
    const stored = sealed ? await sealed.seal(bytes) : bytes;
    const sha256 = createHash('sha256').update(stored).digest('hex');
    if (!(await store.has(sha256))) await store.put(sha256, stored);
    try {
      return await prisma.uploadedFile.create({
        data: {
          ownerId: actor.userId,
          conversationId,
          filename: truncated(filename, 255),
          mimeType,
          size: bytes.byteLength,
          sha256,
          text,
          tokenCount: tokenCount ?? IMAGE_TOKENS,
          sealedFor: sealed?.conversationId ?? null,
          expiresAt: conversationId ? null : new Date(Date.now() + limits.ttlMinutes * 60_000),
        },
      });
    } catch (error) {
      await releaseBytes([sha256]);
      throw error;
    }
  }

  async function checkConversationRoom(conversationId: string, incoming: number) {
    const { _sum } = await prisma.uploadedFile.aggregate({ where: { conversationId }, _sum: { size: true } });
    if ((_sum.size ?? 0) + incoming > limits.maxConversationBytes) throw tooLarge(limits.maxConversationBytes, 'conversation');
  }

  return {
    limits,

    async upload(actor: Actor, file: File, conversationId?: string | null): Promise<UploadedFile> {
      if (conversationId != null) await ownedConversation(actor, conversationId);
      if (file.size > limits.maxFileBytes) throw tooLarge(limits.maxFileBytes, 'file');
      return save(actor, new Uint8Array(await file.arrayBuffer()), file.name || 'upload', conversationId ?? null);
    },

    /** Fetches a URL under the file-URL policy and keeps its bytes like an upload. */
    async uploadFromUrl(actor: Actor, url: string, conversationId?: string | null): Promise<UploadedFile> {
      if (conversationId != null) await ownedConversation(actor, conversationId);
      const fetched = await fetchUrlSafely(url, { ...limits.urls, maxBytes: limits.maxFileBytes });
      return save(actor, fetched.bytes, fetched.filename, conversationId ?? null);
    },

    /** The text of a URL under the file-URL policy, kept nowhere (the fetch_url tool); an image has none. */
    async fetchText(url: string): Promise<{ text: string | null; mimeType: string; finalUrl: string }> {
      const fetched = await fetchUrlSafely(url, { ...limits.urls, maxBytes: limits.maxFileBytes });
      if (fetched.kind === 'image') return { text: null, mimeType: fetched.mimeType, finalUrl: fetched.finalUrl };
      const { text } = await extractOffThread({ bytes: fetched.bytes, kind: fetched.kind, limits: limits.extraction });
      return { text, mimeType: fetched.mimeType, finalUrl: fetched.finalUrl };
    },

    /**
     * Bytes the gateway made for the caller (generated images, exports), kept like an upload; `extract: false` keeps no text
     * of them in the database, `sealed` stores them sealed under a conversation's key (and keeps no text either).
     */
    saveGenerated: (
      actor: Actor,
      bytes: Uint8Array,
      filename: string,
      conversationId: string | null,
      options: { extract?: boolean; sealed?: SealedStorage | null } = {},
    ) => save(actor, bytes, filename, conversationId, options.extract ?? true, options.sealed ?? null),

    /** A file of the caller's and its bytes as stored (sealed when `sealedFor` is set), for downloading; another user's file is not found. */
    async download(actor: Actor, id: string): Promise<{ file: UploadedFile; bytes: Buffer } | null> {
      const file = await prisma.uploadedFile.findFirst({ where: { id, ownerId: actor.userId } });
      return file ? { file, bytes: await store.get(file.sha256) } : null;
    },

    /** The caller's files for a message; every id must be theirs. */
    async forMessage(actor: Actor, fileIds: string[]): Promise<UploadedFile[]> {
      if (fileIds.length === 0) return [];
      const files = await prisma.uploadedFile.findMany({ where: { id: { in: fileIds }, ownerId: actor.userId } });
      const missing = fileIds.find((id) => !files.some((file) => file.id === id));
      if (missing) throw notFound('UploadedFile', missing);
      return fileIds.map((id) => files.find((file) => file.id === id)!);
    },

    /** Files uploaded on their own join a conversation when a message names them, so its total is checked then too. */
    async checkRoomFor(conversationId: string | null, files: UploadedFile[]) {
      const joining = files.filter((file) => file.conversationId === null).reduce((total, file) => total + file.size, 0);
      if (joining === 0) return;
      if (conversationId) await checkConversationRoom(conversationId, joining);
      else if (joining > limits.maxConversationBytes) throw tooLarge(limits.maxConversationBytes, 'conversation');
    },

    bytesOf: (file: Pick<UploadedFile, 'sha256'>) => store.get(file.sha256),

    async dataUrl(file: UploadedFile): Promise<string> {
      return `data:${file.mimeType};base64,${(await store.get(file.sha256)).toString('base64')}`;
    },

    /** Removes the caller's files; ids that are not (or no longer) theirs are ignored, so calling twice is harmless. */
    /**
     * Removes the caller's files among `ids` and returns them as they were, read with `shape`
     * (the relations the answer needs), since nothing can be loaded for them once they are gone.
     */
    async remove(
      actor: Actor,
      ids: string[],
      shape: { include?: Prisma.UploadedFileInclude; select?: Prisma.UploadedFileSelect } = {},
    ): Promise<UploadedFile[]> {
      const files = await prisma.uploadedFile.findMany({ where: { id: { in: ids }, ownerId: actor.userId } });
      const removed = files.map((file) => file.id);
      const shown = (await prisma.uploadedFile.findMany({ ...shape, where: { id: { in: removed } } } as never)) as UploadedFile[];
      await prisma.uploadedFile.deleteMany({ where: { id: { in: removed } } });
      await releaseBytes(files.map((file) => file.sha256));
      return shown;
    },

    /** Deletes expired files and their bytes. */
    async sweep(now = new Date()): Promise<number> {
      const expired = await prisma.uploadedFile.findMany({ where: { expiresAt: { lt: now } }, select: { id: true, sha256: true } });
      if (expired.length === 0) return 0;
      await prisma.uploadedFile.deleteMany({ where: { id: { in: expired.map((file) => file.id) } } });
      await releaseBytes(expired.map((file) => file.sha256));
      logger.info({ removed: expired.length }, 'swept expired files');
      return expired.length;
    },
  };
}

export type FilesService = ReturnType<typeof createFilesService>;
