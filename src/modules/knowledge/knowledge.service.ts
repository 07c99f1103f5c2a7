import type { KnowledgeCollection, KnowledgeDocument, PrismaClient } from '../../generated/prisma/client.js';
import type { KnowledgeQuota, TierName } from '../../lib/config.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { Actor } from '../identity/actor.js';
import type { KnowledgeHitRow, KnowledgeSearch } from './knowledge-search.js';

export interface KnowledgeText {
  source: string;
  text: string;
}

export interface KnowledgeDeps {
  prisma: PrismaClient;
  search: KnowledgeSearch;
  quotas: Record<TierName, KnowledgeQuota>;
  /** Tells this instance's indexer that documents are waiting. */
  wakeIndexer(): void;
}

const MAX_NAME = 100;
const MAX_DESCRIPTION = 1_000;
const MAX_SOURCE = 500;
const MAX_QUERY = 500;
const MAX_HITS = 50;
/** Documents one addToCollection call may bring. */
export const MAX_DOCUMENTS_PER_CALL = 50;

const byteLength = (text: string) => Buffer.byteLength(text, 'utf8');

/** Collections of the caller's documents, their indexing queue and search over them. */
export function createKnowledgeService(deps: KnowledgeDeps) {
  const { prisma } = deps;

  async function ownedCollection(actor: Actor, id: string): Promise<KnowledgeCollection> {
    const collection = await prisma.knowledgeCollection.findFirst({ where: { id, ownerId: actor.userId } });
    if (!collection) throw notFound('KnowledgeCollection', id);
    return collection;
  }

  function checkName(name: string, description: string | null | undefined) {
    if (!name.trim() || name.length > MAX_NAME) throw badInput('knowledge.name', { max: MAX_NAME });
    if ((description?.length ?? 0) > MAX_DESCRIPTION) throw badInput('knowledge.description', { max: MAX_DESCRIPTION });
  }

  /** What the new documents will hold: uploaded files' extracted text or the given texts. */
  async function incomingDocuments(actor: Actor, fileIds: string[], texts: KnowledgeText[]) {
    const count = fileIds.length + texts.length;
    if (count === 0 || count > MAX_DOCUMENTS_PER_CALL) throw badInput('knowledge.documentCount', { max: MAX_DOCUMENTS_PER_CALL });
    const files = await prisma.uploadedFile.findMany({ where: { id: { in: fileIds }, ownerId: actor.userId } });
    const fromFiles = fileIds.map((id) => {
      const file = files.find((candidate) => candidate.id === id);
      if (!file) throw notFound('UploadedFile', id);
      if (!file.text?.trim()) throw badInput('knowledge.noText', { source: file.filename, type: file.mimeType });
      return { source: file.filename, mimeType: file.mimeType, fileId: file.id, text: file.text };
    });
    const fromTexts = texts.map((item) => {
      if (!item.source.trim() || item.source.length > MAX_SOURCE) throw badInput('knowledge.source', { max: MAX_SOURCE });
      if (!item.text.trim()) throw badInput('knowledge.noText', { source: item.source, type: 'text/plain' });
      return { source: item.source, mimeType: 'text/plain', fileId: null, text: item.text };
    });
    return [...fromFiles, ...fromTexts];
  }

  return {
    ownedCollection,

    list: (actor: Actor) => prisma.knowledgeCollection.findMany({ where: { ownerId: actor.userId }, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }] }),

    async find(actor: Actor, id: string): Promise<KnowledgeCollection | null> {
      return prisma.knowledgeCollection.findFirst({ where: { id, ownerId: actor.userId } });
    },

    async create(actor: Actor, name: string, description?: string | null): Promise<KnowledgeCollection> {
      checkName(name, description);
      const taken = await prisma.knowledgeCollection.findFirst({ where: { ownerId: actor.userId, name }, select: { id: true } });
      if (taken) throw badInput('knowledge.nameTaken', { name });
      return prisma.knowledgeCollection.create({ data: { ownerId: actor.userId, name, description: description ?? null } });
    },

    /** Its documents and chunks go with it; an indexer working on one finds its claim gone and stops. */
    async delete(actor: Actor, id: string): Promise<boolean> {
      await ownedCollection(actor, id);
      await prisma.knowledgeCollection.delete({ where: { id } });
      return true;
    },

    /**
     * Queues documents for indexing and returns them at once. The collection's
     * row is locked while its quota is checked, so two calls at once cannot
     * both fit into the room left for one.
     */
    async add(actor: Actor, collectionId: string, input: { fileIds?: string[] | null; texts?: KnowledgeText[] | null }): Promise<KnowledgeDocument[]> {
      await ownedCollection(actor, collectionId);
      const incoming = await incomingDocuments(actor, input.fileIds ?? [], input.texts ?? []);
      const quota = deps.quotas[actor.tier];
      const documents = await prisma.$transaction(async (transaction) => {
        await transaction.$queryRaw`SELECT id FROM "KnowledgeCollection" WHERE id = ${collectionId} FOR UPDATE`;
        const held = await transaction.knowledgeDocument.aggregate({ where: { collectionId }, _count: { _all: true }, _sum: { bytes: true } });
        if (held._count._all + incoming.length > quota.documents)
          throw badInput('knowledge.quota', { quota: 'documents', limit: quota.documents }, { quota: 'documents', limit: quota.documents });
        const bytes = (held._sum.bytes ?? 0) + incoming.reduce((total, item) => total + byteLength(item.text), 0);
        if (bytes > quota.bytes) throw badInput('knowledge.quota', { quota: 'bytes', limit: quota.bytes }, { quota: 'bytes', limit: quota.bytes });
        const created: KnowledgeDocument[] = [];
        for (const item of incoming) {
          created.push(
            await transaction.knowledgeDocument.create({
              data: { ...item, collectionId, bytes: byteLength(item.text), billedUserId: actor.billedUserId, apiKeyId: actor.apiKeyId ?? null },
            }),
          );
        }
        await transaction.knowledgeCollection.update({ where: { id: collectionId }, data: { updatedAt: new Date() } });
        return created;
      });
      deps.wakeIndexer();
      return documents;
    },

    async remove(actor: Actor, collectionId: string, documentIds: string[]): Promise<boolean> {
      await ownedCollection(actor, collectionId);
      const found = await prisma.knowledgeDocument.findMany({ where: { id: { in: documentIds }, collectionId }, select: { id: true } });
      const missing = documentIds.find((id) => !found.some((document) => document.id === id));
      if (missing) throw notFound('KnowledgeDocument', missing);
      await prisma.knowledgeDocument.deleteMany({ where: { id: { in: documentIds }, collectionId } });
      return true;
    },

    /**
     * Meaning and keyword search over passages of the caller's collections;
     * callable from anywhere that has an actor (a server tool, a turn's context).
     */
    async search(actor: Actor, query: string, options: { collectionIds: string[]; first?: number | null }): Promise<KnowledgeHitRow[]> {
      if (!query.trim() || query.length > MAX_QUERY) throw badInput('search.query', { max: MAX_QUERY });
      const first = options.first ?? 10;
      if (first < 1 || first > MAX_HITS) throw badInput('input.pageSize', { argument: 'first', max: MAX_HITS });
      if (options.collectionIds.length === 0) throw badInput('knowledge.noCollections');
      const ids = [...new Set(options.collectionIds)];
      const owned = await prisma.knowledgeCollection.findMany({ where: { id: { in: ids }, ownerId: actor.userId }, select: { id: true } });
      const missing = ids.find((id) => !owned.some((collection) => collection.id === id));
      if (missing) throw notFound('KnowledgeCollection', missing);
      return deps.search.search(actor, ids, query, first);
    },

    counts: async (collectionId: string) => {
      const [documents, chunks] = await Promise.all([
        prisma.knowledgeDocument.count({ where: { collectionId } }),
        prisma.knowledgeChunk.count({ where: { collectionId } }),
      ]);
      return { documents, chunks };
    },
  };
}

export type KnowledgeService = ReturnType<typeof createKnowledgeService>;
