import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { encodeGlobalId } from '../../graphql/global-id.js';
import { ModelRef } from '../catalog/catalog.schema.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import { isFinished } from './batch.service.js';

const BatchStatusEnum = builder.enumType('BatchStatus', { values: ['QUEUED', 'RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const });

const BatchRequestInput = builder.inputType('BatchRequestInput', {
  fields: (t) => ({
    customId: t.string({ required: true, description: 'Your id for this request; results carry it as custom_id.' }),
    content: t.string({ required: true }),
  }),
});

const BatchInput = builder.inputType('BatchInput', {
  fields: (t) => ({
    model: t.id({ required: true }),
    requests: t.field({ type: [BatchRequestInput], required: true }),
    systemPrompt: t.string(),
  }),
});

/** A model the catalog no longer lists still needs a name on old jobs. */
const retiredModel = (id: string): CatalogModel => ({
  id,
  displayName: id,
  vendor: 'Unknown',
  provider: 'unknown',
  contextWindow: 0,
  maxOutputTokens: 0,
  inputPrice: null,
  outputPrice: null,
  modalities: ['text'],
  minTier: 'FREE',
  privacy: 'PUBLIC',
  enabled: false,
});

const BatchJobRef = builder.prismaNode('BatchJob', {
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, ownerId: context.actor?.userId ?? '' }),
  fields: (t) => ({
    status: t.expose('status', { type: BatchStatusEnum }),
    model: t.field({ type: ModelRef, resolve: (job, _args, context) => context.services.catalog.find(job.modelId) ?? retiredModel(job.modelId) }),
    total: t.exposeInt('total'),
    completed: t.exposeInt('completed', { description: 'Requests answered.' }),
    failed: t.exposeInt('failed', { description: 'Requests that failed (provider error, or too few credits).' }),
    cost: t.exposeFloat('cost', { description: 'USD of the requests answered so far.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
    resultsUrl: t.string({
      nullable: true,
      description: 'Where the JSONL results stream from (GET, same auth) once COMPLETED.',
      resolve: (job, _args, context) => (isFinished(job) ? `${context.origin}/batches/${encodeGlobalId('BatchJob', job.id)}/results` : null),
    }),
  }),
});

builder.queryField('batchJobs', (t) =>
  t.prismaConnection(
    {
      type: 'BatchJob',
      cursor: 'id',
      description: 'Your batch jobs, newest first.',
      authScopes: { caller: true },
      resolve: (query, _root, _args, context) =>
        context.services.db.prisma.batchJob.findMany({
          ...query,
          where: { ownerId: requireActor(context).userId },
          orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        }),
      totalCount: (_connection, _args, context) => context.services.db.prisma.batchJob.count({ where: { ownerId: requireActor(context).userId } }),
    },
    { name: 'BatchJobConnection' },
    { name: 'BatchJobEdge' },
  ),
);

builder.queryField('batchJob', (t) =>
  t.prismaField({
    type: 'BatchJob',
    nullable: true,
    authScopes: { caller: true },
    args: { id: t.arg.globalID({ required: true, for: [BatchJobRef] }) },
    resolve: (query, _root, args, context) =>
      context.services.db.prisma.batchJob.findFirst({
        ...query,
        where: { id: args.id.id, ownerId: requireActor(context).userId },
      }),
  }),
);

builder.mutationFields((t) => ({
  submitBatch: t.prismaField({
    type: 'BatchJob',
    description: 'Queues many prompts for one model (the batch feature); follow it with batchJob, download with resultsUrl.',
    authScopes: { $all: { chatter: true, feature: 'batch' } },
    args: { input: t.arg({ type: BatchInput, required: true }) },
    resolve: (_query, _root, { input }, context) =>
      context.services.batch.submit(requireActor(context), { model: String(input.model), requests: input.requests, systemPrompt: input.systemPrompt }),
  }),
  cancelBatch: t.prismaField({
    type: 'BatchJob',
    description: 'Stops a queued or running job: waiting requests are cancelled, answered ones are kept.',
    authScopes: { writer: true },
    args: { id: t.arg.globalID({ required: true, for: [BatchJobRef] }) },
    resolve: (_query, _root, args, context) => context.services.batch.cancel(requireActor(context), args.id.id),
  }),
}));
