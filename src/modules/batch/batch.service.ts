import type { BatchJob, BatchRequest, PrismaClient } from '../../generated/prisma/client.js';
import type { Config } from '../../lib/config.js';
import { badInput, notFound } from '../../lib/errors.js';
import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import { createWorkLoop } from '../../lib/work-loop.js';
import type { Logger } from '../../lib/logger.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { Actor } from '../identity/actor.js';
import type { LimitsService } from '../limits/limits.service.js';
import type { UsageService } from '../usage/usage.service.js';
import { createBatchRequests, ledgerReference } from './batch-requests.js';

export interface BatchInput {
  model: string;
  requests: Array<{ customId: string; content: string }>;
  systemPrompt?: string | null;
}

export interface BatchDeps {
  prisma: PrismaClient;
  config: Config;
  catalog: CatalogService;
  registry: ProviderRegistry;
  credits: CreditsService;
  limits: LimitsService;
  usage: UsageService;
  logger: Logger;
  /** Names this instance in `claimedBy`. */
  instanceId: string;
}

const MAX_CUSTOM_ID = 64;
const MAX_SYSTEM_PROMPT = 10_000;
const finished = ['COMPLETED', 'FAILED', 'CANCELLED'] as const;

export const isFinished = (job: Pick<BatchJob, 'status'>) => (finished as readonly string[]).includes(job.status);

/**
 * Batch jobs: many prompts to one model, answered in the background. Any
 * instance may run a job; claiming is a conditional update, so exactly one
 * does, and a job whose instance stops heart-beating is taken over.
 */
export function createBatchService(deps: BatchDeps) {
  const { prisma, config, catalog, credits } = deps;
  const worker = createWorkLoop({
    claimNext: () => claimNext(),
    run: (job: BatchJob) => runJob(job),
    pollMs: config.batchPollMs,
    onError: (error, job) => deps.logger.error({ err: error, jobId: job?.id }, 'batch worker failed'),
  });
  const { runRequest, finishRequest } = createBatchRequests(deps);

  function validate(actor: Actor, input: BatchInput): CatalogModel {
    const model = catalog.requireChatModel(input.model, actor.tier);
    const count = input.requests.length;
    if (count < 1 || count > config.batchMaxRequests) throw badInput('batch.requestCount', { max: config.batchMaxRequests, count });
    const seen = new Set<string>();
    for (const request of input.requests) {
      if (request.customId.length < 1 || request.customId.length > MAX_CUSTOM_ID) throw badInput('batch.customId', { max: MAX_CUSTOM_ID });
      if (seen.has(request.customId)) throw badInput('batch.duplicateCustomId', { customId: request.customId });
      seen.add(request.customId);
      if (request.content.trim().length === 0 || request.content.length > config.maxMessageLength) {
        throw badInput('batch.contentLength', { customId: request.customId, max: config.maxMessageLength });
      }
    }
    if ((input.systemPrompt?.length ?? 0) > MAX_SYSTEM_PROMPT) throw badInput('batch.systemPrompt', { max: MAX_SYSTEM_PROMPT });
    return model;
  }

  async function ownedJob(actor: Actor, id: string) {
    const job = await prisma.batchJob.findFirst({ where: { id, ownerId: actor.userId } });
    if (!job) throw notFound('BatchJob', id);
    return job;
  }

  /**
   * Requests a dead instance left RUNNING go back to the queue, their
   * reservations returned. A reservation that instance did settle stays as it
   * was: the settle finds its row and changes nothing.
   */
  async function recoverAbandoned(job: BatchJob) {
    const abandoned = await prisma.batchRequest.findMany({ where: { jobId: job.id, status: 'RUNNING' } });
    for (const request of abandoned) {
      const reference = ledgerReference(request);
      const reservation = await prisma.creditLedgerEntry.findFirst({ where: { reference, kind: 'reserve' } });
      if (reservation) await credits.settle(reservation.userId, -reservation.delta, 0, reference);
      await prisma.batchRequest.update({ where: { id: request.id }, data: { status: 'PENDING' } });
    }
  }

  const claimable = (staleBefore: Date) => ({ OR: [{ status: 'QUEUED' as const }, { status: 'RUNNING' as const, heartbeatAt: { lt: staleBefore } }] });

  /** Takes the oldest waiting job (or one whose instance went quiet); null when another instance won it. */
  async function claimNext(): Promise<BatchJob | null> {
    const staleBefore = new Date(Date.now() - config.orphanTimeoutMs);
    const candidate = await prisma.batchJob.findFirst({ where: claimable(staleBefore), orderBy: { createdAt: 'asc' } });
    if (!candidate) return null;
    const { count } = await prisma.batchJob.updateMany({
      where: { id: candidate.id, ...claimable(staleBefore) },
      data: { status: 'RUNNING', claimedBy: deps.instanceId, heartbeatAt: new Date() },
    });
    if (count === 0) return null;
    if (candidate.status === 'RUNNING') await recoverAbandoned(candidate);
    return prisma.batchJob.findUniqueOrThrow({ where: { id: candidate.id } });
  }

  async function runJob(job: BatchJob) {
    const model = catalog.find(job.modelId);
    const aborter = new AbortController();
    const heartbeat = setInterval(
      () => {
        void (async () => {
          const { count } = await prisma.batchJob.updateMany({
            where: { id: job.id, claimedBy: deps.instanceId, status: 'RUNNING' },
            data: { heartbeatAt: new Date() },
          });
          // Cancelled, or taken over after this instance looked dead: stop working on it.
          if (count === 0) aborter.abort();
        })().catch((error: unknown) => deps.logger.warn({ err: error, jobId: job.id }, 'batch heartbeat failed'));
      },
      Math.max(100, Math.floor(config.orphanTimeoutMs / 3)),
    );
    const inFlight = new Set<Promise<void>>();
    try {
      while (!aborter.signal.aborted && !worker.stopping) {
        if (inFlight.size >= config.batchConcurrency) {
          await Promise.race(inFlight);
          continue;
        }
        const next = await prisma.batchRequest.findFirst({ where: { jobId: job.id, status: 'PENDING' }, orderBy: { position: 'asc' } });
        if (!next) break;
        const { count } = await prisma.batchRequest.updateMany({
          where: { id: next.id, status: 'PENDING', attempt: next.attempt },
          data: { status: 'RUNNING', attempt: { increment: 1 } },
        });
        if (count === 0) continue;
        const taken: BatchRequest = { ...next, status: 'RUNNING', attempt: next.attempt + 1 };
        const task = model
          ? runRequest(job, model, taken, aborter.signal)
          : finishRequest(job, taken, { status: 'FAILED', errorCode: 'BAD_USER_INPUT', errorMessage: `Model ${job.modelId} is no longer available.` });
        const tracked = task
          .catch((error: unknown) => deps.logger.error({ err: error, jobId: job.id, requestId: next.id }, 'batch request failed unexpectedly'))
          .finally(() => inFlight.delete(tracked));
        inFlight.add(tracked);
      }
      await Promise.all(inFlight);
    } finally {
      clearInterval(heartbeat);
    }
    if (worker.stopping && !aborter.signal.aborted) {
      // Shutting down mid-job: hand it back so another instance (or the next start) continues.
      await prisma.batchJob.updateMany({ where: { id: job.id, claimedBy: deps.instanceId, status: 'RUNNING' }, data: { status: 'QUEUED', claimedBy: null } });
      return;
    }
    const current = await prisma.batchJob.findUniqueOrThrow({ where: { id: job.id } });
    if (current.status !== 'RUNNING' || current.claimedBy !== deps.instanceId) return;
    await prisma.batchJob.updateMany({
      where: { id: job.id, status: 'RUNNING', claimedBy: deps.instanceId },
      data: { status: current.completed === 0 && current.failed > 0 ? 'FAILED' : 'COMPLETED', completedAt: new Date() },
    });
  }

  return {
    async submit(actor: Actor, input: BatchInput): Promise<BatchJob> {
      const model = validate(actor, input);
      await deps.limits.consumeChatRequest({ userId: actor.billedUserId, tier: actor.tier, isGuest: actor.isGuest, freeMessagesUsed: 0 });
      const job = await prisma.$transaction(async (transaction) => {
        const created = await transaction.batchJob.create({
          data: {
            ownerId: actor.userId,
            billedUserId: actor.billedUserId,
            apiKeyId: actor.apiKeyId ?? null,
            tier: actor.tier,
            modelId: model.id,
            systemPrompt: input.systemPrompt ?? null,
            total: input.requests.length,
          },
        });
        await transaction.batchRequest.createMany({
          data: input.requests.map((request, position) => ({ jobId: created.id, position, customId: request.customId, content: request.content })),
        });
        return created;
      });
      worker.wake();
      return job;
    },

    get: ownedJob,

    async cancel(actor: Actor, id: string): Promise<BatchJob> {
      const job = await ownedJob(actor, id);
      if (isFinished(job)) return job;
      await prisma.$transaction([
        prisma.batchJob.updateMany({ where: { id, status: { in: ['QUEUED', 'RUNNING'] } }, data: { status: 'CANCELLED', completedAt: new Date() } }),
        prisma.batchRequest.updateMany({ where: { jobId: id, status: 'PENDING' }, data: { status: 'CANCELLED', completedAt: new Date() } }),
      ]);
      return prisma.batchJob.findUniqueOrThrow({ where: { id } });
    },

    /** The job's results in order, a page at a time, for the JSONL download. */
    async *results(job: BatchJob): AsyncGenerator<BatchRequest> {
      let position = -1;
      for (;;) {
        const page = await prisma.batchRequest.findMany({ where: { jobId: job.id, position: { gt: position } }, orderBy: { position: 'asc' }, take: 500 });
        if (page.length === 0) return;
        yield* page;
        position = page.at(-1)!.position;
      }
    },

    /** Starts this instance's worker: it claims one job at a time and runs its requests `batchConcurrency` at once. */
    start: worker.start,
    stop: worker.stop,
  };
}

export type BatchService = ReturnType<typeof createBatchService>;
