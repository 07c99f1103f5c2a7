import type { MessageStatus } from '../../generated/prisma/enums.js';
import type { Clock } from '../../lib/clock.js';
import { UserFacingError } from '../../lib/errors.js';
import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import type { UpstreamPolicy } from '../../lib/llm/upstream-policy.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayPubSub } from '../../lib/pubsub.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { ConversationAccess } from '../encryption/conversation-access.js';
import type { Actor } from '../identity/actor.js';
import type { SearchService } from '../search/search.service.js';
import type { UsageService } from '../usage/usage.service.js';
import type { EventLog } from './event-log.js';
import { type GenerationSummary, type RunningGeneration, startGeneration } from './generation.js';
import { isUnfinished, type MessageStore } from './message-store.js';
import type { OrphanRecovery } from './orphan-recovery.js';
import { reservationFor } from './turn-budget.js';
import type { PlannedReply } from './turn-plan.js';
import type { ReplyObserver } from '../operations/reply-observer.js';

/** How long a stop waits for another instance to end a reply before treating it as orphaned. */
const STOP_TIMEOUT_MS = 5_000;

export interface ReplyRunnerDeps {
  store: MessageStore;
  eventLog: EventLog;
  pubsub: GatewayPubSub;
  catalog: CatalogService;
  registry: ProviderRegistry;
  credits: CreditsService;
  usage: UsageService;
  search: SearchService;
  orphans: OrphanRecovery;
  logger: Logger;
  flushIntervalMs: number;
  /** Streamed-text flushes per second this instance makes at most, across its replies (0: no limit). */
  flushesPerSecond: number;
  upstream: UpstreamPolicy;
  /** Time as replies see it; tests pass their own. */
  clock?: Clock;
  observer?: ReplyObserver;
}

export interface ReplyTurn {
  conversationId: string;
  messageId: string;
  /** The question it answers, indexed for search with it. */
  questionId?: string;
}

/**
 * Runs replies on this instance, independent of the requests that started
 * them: launch, stop (here or on whichever instance runs it), vouch for them
 * while they run, and let them finish at shutdown.
 */
export function createReplyRunner(deps: ReplyRunnerDeps) {
  const { store } = deps;
  const running = new Map<string, RunningGeneration>();
  /** Work a reply leaves behind (search indexing); shutdown waits for it. */
  const background = new Set<Promise<unknown>>();
  const inBackground = (task: Promise<unknown>) => {
    background.add(task);
    void task.finally(() => background.delete(task));
  };

  // Stop requests reach every instance; the one running the reply stops it.
  const stopRequests = deps.pubsub.subscribe('stop', 'all');
  void (async () => {
    for await (const { messageId } of stopRequests) running.get(messageId)?.stop('user');
  })();

  /** Settles credits, records usage and indexes the turn: called once, by the write that ended the reply. */
  async function settle(actor: Actor, turn: ReplyTurn, planned: PlannedReply, access: ConversationAccess, summary: GenerationSummary) {
    await deps.credits.settle(actor.billedUserId, planned.reservation, deps.credits.creditsFor(summary.cost), turn.messageId);
    const before = (pick: (step: GenerationSummary['toolSteps'][number]) => number) => summary.toolSteps.reduce((sum, step) => sum + pick(step), 0);
    await deps.usage.record({
      actor,
      modelId: summary.model.id,
      action: 'CHAT',
      inputTokens: summary.inputTokens - before((step) => step.inputTokens),
      outputTokens: summary.outputTokens - before((step) => step.outputTokens),
      cost: summary.cost - before((step) => step.cost),
      success: summary.status !== 'FAILED',
      latencyMs: summary.latencyMs,
      timeToFirstTokenMs: summary.timeToFirstTokenMs,
      messageId: turn.messageId,
    });
    // Each model call that ran tools before the last one is a TOOL row of its own; the CHAT row is the last call.
    for (const step of summary.toolSteps) {
      const { inputTokens, outputTokens, cost } = step;
      await deps.usage.record({ actor, modelId: step.model.id, action: 'TOOL', inputTokens, outputTokens, cost, success: true, messageId: turn.messageId });
    }
    deps.observer?.replySettled({ ...summary, model: summary.model.id, provider: summary.model.provider });
    // Encrypted conversations stay out of the search index.
    if (summary.status === 'COMPLETE' && turn.questionId && access.privacy === 'PUBLIC') {
      inBackground(deps.search.index(actor, [turn.questionId, turn.messageId]));
    }
  }

  // Each reply flushes once per interval until together they would pass the budget; then each flushes less often.
  const flushStride = () => (deps.flushesPerSecond > 0 ? Math.max(1, Math.ceil((running.size * 1000) / (deps.flushIntervalMs * deps.flushesPerSecond))) : 1);

  const pricing = { costOf: deps.catalog.costOf, creditsFor: deps.credits.creditsFor };

  function launch(actor: Actor, turn: ReplyTurn, planned: PlannedReply, access: ConversationAccess, admitted?: Promise<boolean>) {
    const candidates = [planned, ...planned.fallbacks].flatMap((candidate) => {
      const client = deps.registry.clientFor(candidate.model.provider);
      return client ? [{ model: candidate.model, client, messages: candidate.messages, maxOutputTokens: candidate.outputBudget }] : [];
    });
    if (candidates[0]?.model !== planned.model) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.unavailable', { model: planned.model.id });
    const generation = startGeneration(
      {
        store,
        eventLog: deps.eventLog,
        logger: deps.logger,
        flushIntervalMs: deps.flushIntervalMs,
        flushStride,
        costOf: deps.catalog.costOf,
        policy: deps.upstream,
        clock: deps.clock,
        observer: deps.observer,
      },
      {
        messageId: turn.messageId,
        conversationId: turn.conversationId,
        candidates,
        reasoningEffort: planned.reasoningEffort,
        sealContent: access.privacy === 'PUBLIC' ? undefined : access.seal,
        admitted,
        tools: planned.tools && {
          run: planned.tools,
          reservation: planned.reservation,
          creditsFor: deps.credits.creditsFor,
          worstCase: (candidate) => reservationFor(pricing, candidate.model, candidate.messages, candidate.maxOutputTokens ?? planned.outputBudget),
        },
        onFinish: (summary) => settle(actor, turn, planned, access, summary),
      },
    );
    running.set(turn.messageId, generation);
    void generation.done.finally(() => running.delete(turn.messageId));
    return generation;
  }

  /** Waits for a reply running elsewhere to end after a stop request; false if nobody ended it. */
  async function endedElsewhere(messageId: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const row = await store.replyState(messageId);
      if (!row || !isUnfinished(row.status)) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }

  /** Stops a reply wherever it runs; one nobody runs is ended here as STOPPED (and settled once). */
  async function stopReply(messageId: string) {
    const generation = running.get(messageId);
    if (generation) {
      generation.stop('user');
      await generation.done;
      return;
    }
    deps.pubsub.publish('stop', 'all', { messageId });
    if (!(await endedElsewhere(messageId, STOP_TIMEOUT_MS))) await deps.orphans.endOrphan(messageId, 'STOPPED');
  }

  return {
    launch,
    stopReply,

    /** Stops every unfinished reply of a conversation, on every instance. */
    async stopConversation(conversationId: string) {
      await Promise.all((await store.unfinishedReplyIds(conversationId)).map(stopReply));
    },

    /** Resolves once these replies have finished here (those running elsewhere are not waited for). */
    waitFor: (messageIds: string[]): Promise<Array<MessageStatus | undefined>> => Promise.all(messageIds.map((id) => running.get(id)?.done)),

    isRunning: (messageId: string) => running.has(messageId),
    runningCount: () => running.size,

    /** Text of a reply still streaming in this process, fresher than its last flush. */
    liveText(messageId: string) {
      const generation = running.get(messageId);
      return generation && { text: generation.currentContent(), reasoning: generation.currentReasoning(), sealed: generation.sealed };
    },

    /**
     * Runs on every instance: vouches for the replies this instance runs, then
     * fails replies whose instance stopped vouching for them (it died).
     */
    async heartbeat(orphanTimeoutMs: number) {
      const mine = [...running.keys()];
      // A reply another instance ended (it took this one for dead) is stopped here; its final write then settles nothing.
      for (const id of await store.vouchFor(mine)) running.get(id)?.stop('ended');
      const failed = await deps.orphans.sweep(mine, new Date(Date.now() - orphanTimeoutMs));
      if (failed > 0) deps.logger.warn({ failed }, 'failed replies whose instance stopped running them');
    },

    /** With one instance, at start: replies a previous run left unfinished are failed and settled. */
    failLeftovers: () => deps.orphans.failLeftovers([...running.keys()]),

    /** Lets running replies finish within the grace period, then stops the rest (stored as STOPPED). */
    async shutdown(graceMs: number) {
      const all = [...running.values()];
      if (all.length > 0) {
        let timer: NodeJS.Timeout | undefined;
        const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
        await Promise.race([Promise.all(all.map((generation) => generation.done)), grace]);
        clearTimeout(timer);
        for (const generation of running.values()) generation.stop('shutdown');
        await Promise.all([...running.values()].map((generation) => generation.done));
      }
      await Promise.allSettled([...background]);
      await stopRequests.return();
    },
  };
}

export type ReplyRunner = ReturnType<typeof createReplyRunner>;
