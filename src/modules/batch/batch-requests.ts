import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { BatchJob, BatchRequest } from '../../generated/prisma/client.js';
import { UserFacingError } from '../../lib/errors.js';
import { providerFailure } from '../../lib/llm/provider-errors.js';
import { truncated } from '../../lib/text.js';
import { countTokens } from '../../lib/tokens.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import { outputBudgetOf, promptTokens, reservationFor } from '../chat/turn-budget.js';
import type { Actor } from '../identity/actor.js';
import type { BatchDeps } from './batch.service.js';

export type BatchRequestDeps = Pick<BatchDeps, 'prisma' | 'config' | 'catalog' | 'registry' | 'credits' | 'usage' | 'logger'>;

export interface RequestOutcome {
  status: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  response?: string;
  inputTokens?: number;
  outputTokens?: number;
  cost?: number;
  errorCode?: string;
  errorMessage?: string;
}

export const actorOfJob = (job: BatchJob): Actor => ({
  userId: job.ownerId,
  billedUserId: job.billedUserId,
  tier: job.tier,
  isGuest: false,
  apiKeyId: job.apiKeyId ?? undefined,
});

/**
 * The ledger reference of a request's current attempt: its id for the first,
 * "<id>:<n>" for a later one, so a request run again after a takeover
 * reserves and settles anew without touching the earlier attempt's rows.
 */
export const ledgerReference = (request: Pick<BatchRequest, 'id' | 'attempt'>) => (request.attempt <= 1 ? request.id : `${request.id}:${request.attempt}`);

/** One request of a job at a time: reserved, asked, settled and stored. */
export function createBatchRequests(deps: BatchRequestDeps) {
  const { prisma, config, catalog, credits } = deps;

  /** Asks the model; throws when there is no answer. */
  async function ask(model: CatalogModel, messages: ChatCompletionMessageParam[], outputBudget: number, signal: AbortSignal) {
    const client = deps.registry.clientFor(model.provider);
    if (!client) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.unavailable', { model: model.id });
    const completion = await client.chat.completions.create(
      {
        model: model.id,
        messages,
        ...(model.provider === 'openai' ? { max_completion_tokens: outputBudget } : { max_tokens: outputBudget }),
      },
      // Before an answer exists a retry costs nothing, so the SDK's own retries (Retry-After honoured) apply.
      { signal, maxRetries: config.upstream.maxRetries, timeout: config.upstream.totalTimeoutMs },
    );
    const text = completion.choices[0]?.message?.content ?? '';
    const inputTokens = completion.usage?.prompt_tokens ?? promptTokens(messages, model.id);
    const outputTokens = completion.usage?.completion_tokens ?? countTokens(text, model.id);
    return { text, inputTokens, outputTokens, cost: catalog.costOf(model, inputTokens, outputTokens) };
  }

  /**
   * One request: reserve its worst case, ask the model, settle, store the
   * answer. The reservation is settled once, at the point the outcome is
   * known: refunded whole when the provider gave no answer, charged the real
   * usage as soon as it did, before its result is stored (so a result that
   * cannot be stored is still paid for, and nothing settles it again).
   */
  async function runRequest(job: BatchJob, model: CatalogModel, request: BatchRequest, signal: AbortSignal) {
    const messages: ChatCompletionMessageParam[] = [
      ...(job.systemPrompt ? [{ role: 'system' as const, content: job.systemPrompt }] : []),
      { role: 'user', content: request.content },
    ];
    // The same worst case a chat reply reserves: the context with a margin, plus the whole output budget.
    const outputBudget = outputBudgetOf(model, config.maxOutputTokensPerReply);
    const reservation = reservationFor({ costOf: catalog.costOf, creditsFor: credits.creditsFor }, model, messages, outputBudget);
    const reference = ledgerReference(request);
    const actor = actorOfJob(job);
    try {
      await credits.reserve(prisma, job.billedUserId, reservation, reference);
    } catch (error) {
      const code = error instanceof UserFacingError ? error.code : 'INTERNAL';
      await finishRequest(job, request, { status: 'FAILED', errorCode: code, errorMessage: 'Not enough credits for this request.' });
      return;
    }
    const startedAt = Date.now();
    let answer: Awaited<ReturnType<typeof ask>>;
    try {
      answer = await ask(model, messages, outputBudget, signal);
    } catch (error) {
      await credits.settle(job.billedUserId, reservation, 0, reference);
      if (signal.aborted) {
        await finishRequest(job, request, { status: 'CANCELLED' });
        return;
      }
      const failure = providerFailure(error);
      await finishRequest(job, request, {
        status: 'FAILED',
        errorCode: failure.code,
        errorMessage: error instanceof Error ? truncated(error.message, 500) : 'failed',
      });
      await deps.usage.record({ actor, modelId: model.id, action: 'BATCH', cost: 0, success: false, latencyMs: Date.now() - startedAt });
      return;
    }
    const { text, inputTokens, outputTokens, cost } = answer;
    await credits.settle(job.billedUserId, reservation, credits.creditsFor(cost), reference);
    let stored = true;
    try {
      await finishRequest(job, request, { status: 'SUCCEEDED', response: text, inputTokens, outputTokens, cost });
    } catch (error) {
      // Paid for but lost: the request fails with what it cost, so the job's cost still matches what was charged.
      stored = false;
      deps.logger.error({ err: error, jobId: job.id, requestId: request.id }, 'storing a batch answer failed');
      await finishRequest(job, request, {
        status: 'FAILED',
        errorCode: 'INTERNAL',
        errorMessage: 'The answer could not be stored.',
        inputTokens,
        outputTokens,
        cost,
      });
    }
    await deps.usage.record({
      actor,
      modelId: model.id,
      action: 'BATCH',
      inputTokens,
      outputTokens,
      cost,
      success: stored,
      latencyMs: Date.now() - startedAt,
    });
  }

  async function finishRequest(job: BatchJob, request: BatchRequest, outcome: RequestOutcome) {
    await prisma.$transaction(async (transaction) => {
      // Only this attempt's row: a late outcome after another instance took the request over leaves the newer attempt alone.
      const { count } = await transaction.batchRequest.updateMany({
        where: { id: request.id, attempt: request.attempt },
        data: { ...outcome, completedAt: new Date() },
      });
      if (count === 0) return;
      await transaction.batchJob.update({
        where: { id: job.id },
        data: {
          completed: { increment: outcome.status === 'SUCCEEDED' ? 1 : 0 },
          failed: { increment: outcome.status === 'FAILED' ? 1 : 0 },
          cost: { increment: outcome.cost ?? 0 },
        },
      });
    });
  }

  return { runRequest, finishRequest };
}
