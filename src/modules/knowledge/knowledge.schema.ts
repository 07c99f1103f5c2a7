import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { UploadedFileRef } from '../files/files.schema.js';
import type { KnowledgeHitRow } from './knowledge-search.js';

const IndexStatusEnum = builder.enumType('IndexStatus', { values: ['QUEUED', 'INDEXING', 'READY', 'FAILED'] as const });

export const KnowledgeDocumentRef = builder.prismaNode('KnowledgeDocument', {
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, collection: { is: { ownerId: context.actor?.userId ?? '' } } }),
  fields: (t) => ({
    source: t.exposeString('source', { description: 'The file name or the label given with the text.' }),
    mimeType: t.exposeString('mimeType'),
    status: t.expose('status', { type: IndexStatusEnum }),
    error: t.exposeString('error', { nullable: true, description: 'Why indexing FAILED.' }),
    chunkCount: t.exposeInt('chunkCount'),
    tokenCount: t.exposeInt('tokenCount'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

export const KnowledgeCollectionRef = builder.prismaNode('KnowledgeCollection', {
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, ownerId: context.actor?.userId ?? '' }),
  fields: (t) => ({
    name: t.exposeString('name'),
    description: t.exposeString('description', { nullable: true }),
    documentCount: t.int({
      resolve: (collection, _args, context) => context.services.db.prisma.knowledgeDocument.count({ where: { collectionId: collection.id } }),
    }),
    chunkCount: t.int({
      description: 'Passages stored for search (READY documents).',
      resolve: (collection, _args, context) => context.services.db.prisma.knowledgeChunk.count({ where: { collectionId: collection.id } }),
    }),
    documents: t.relatedConnection(
      'documents',
      { cursor: 'id', totalCount: true, query: { orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] } },
      { name: 'KnowledgeDocumentConnection' },
      { name: 'KnowledgeDocumentEdge' },
    ),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const KnowledgeHitRef = builder.objectRef<KnowledgeHitRow>('KnowledgeHit').implement({
  fields: (t) => ({
    document: t.prismaField({
      type: 'KnowledgeDocument',
      resolve: (query, hit, _args, context) => context.services.db.prisma.knowledgeDocument.findUniqueOrThrow({ ...query, where: { id: hit.documentId } }),
    }),
    content: t.exposeString('content', { description: 'The passage.' }),
    score: t.exposeFloat('score', { description: 'Reciprocal rank fusion of the meaning and the keyword rankings; higher is better.' }),
    rank: t.exposeInt('rank', { description: '1 for the best hit.' }),
  }),
});

const KnowledgeTextInput = builder.inputType('KnowledgeTextInput', {
  fields: (t) => ({ source: t.string({ required: true }), text: t.string({ required: true }) }),
});

builder.queryFields((t) => ({
  collections: t.field({
    type: [KnowledgeCollectionRef],
    description: 'Your knowledge collections, newest first.',
    authScopes: { caller: true },
    resolve: (_root, _args, context) => context.services.knowledge.list(requireActor(context)),
  }),
  collection: t.field({
    type: KnowledgeCollectionRef,
    nullable: true,
    authScopes: { caller: true },
    args: { id: t.arg.globalID({ required: true, for: [KnowledgeCollectionRef] }) },
    resolve: (_root, args, context) => context.services.knowledge.find(requireActor(context), args.id.id),
  }),
  searchKnowledge: t.field({
    type: [KnowledgeHitRef],
    description: "Meaning and keyword search over the passages of one or more of the caller's collections.",
    authScopes: { caller: true },
    args: {
      query: t.arg.string({ required: true }),
      collectionIds: t.arg.globalIDList({ required: true, for: [KnowledgeCollectionRef] }),
      first: t.arg.int(),
    },
    resolve: (_root, args, context) =>
      context.services.knowledge.search(requireActor(context), args.query, { collectionIds: args.collectionIds.map((id) => id.id), first: args.first }),
  }),
}));

builder.mutationFields((t) => ({
  createCollection: t.field({
    type: KnowledgeCollectionRef,
    authScopes: { writer: true },
    args: { name: t.arg.string({ required: true }), description: t.arg.string() },
    resolve: (_root, args, context) => context.services.knowledge.create(requireActor(context), args.name, args.description),
  }),
  deleteCollection: t.boolean({
    description: 'Deletes the collection, its documents and their passages; indexing of them stops.',
    authScopes: { writer: true },
    args: { id: t.arg.globalID({ required: true, for: [KnowledgeCollectionRef] }) },
    resolve: (_root, args, context) => context.services.knowledge.delete(requireActor(context), args.id.id),
  }),
  addToCollection: t.field({
    type: [KnowledgeDocumentRef],
    description: 'Indexes uploaded files (by id) or texts into a collection; returns at once, each document goes QUEUED -> INDEXING -> READY or FAILED.',
    authScopes: { writer: true },
    args: {
      collectionId: t.arg.globalID({ required: true, for: [KnowledgeCollectionRef] }),
      fileIds: t.arg.globalIDList({ for: [UploadedFileRef] }),
      texts: t.arg({ type: [KnowledgeTextInput] }),
    },
    resolve: (_root, args, context) =>
      context.services.knowledge.add(requireActor(context), args.collectionId.id, {
        fileIds: args.fileIds?.map((id) => id.id),
        texts: args.texts,
      }),
  }),
  removeFromCollection: t.boolean({
    authScopes: { writer: true },
    args: {
      collectionId: t.arg.globalID({ required: true, for: [KnowledgeCollectionRef] }),
      documentIds: t.arg.globalIDList({ required: true, for: [KnowledgeDocumentRef] }),
    },
    resolve: (_root, args, context) =>
      context.services.knowledge.remove(
        requireActor(context),
        args.collectionId.id,
        args.documentIds.map((id) => id.id),
      ),
  }),
}));
