import type { Logger } from '../../lib/logger.js';
import { countTokens } from '../../lib/tokens.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { UsageService } from '../usage/usage.service.js';
import type { EventLog } from './event-log.js';
import type { MessageEvent } from './message-events.js';
import { isUnfinished, type MessageStore } from './message-store.js';
import { outputBudgetOf } from './turn-budget.js';
import type { ReplyObserver } from '../operations/reply-observer.js';

export interface OrphanRecoveryDeps {
  store: MessageStore;
  eventLog: EventLog;
  catalog: CatalogService;
  credits: CreditsService;
  usage: UsageService;
  logger: Logger;
  maxOutputTokensPerReply: number;
  observer?: ReplyObserver;
}

const interrupted = { code: 'INTERRUPTED', message: 'The server running this reply stopped before it finished.' };

/** The answer and thinking followers received, rebuilt from a complete event log. */
function textFromLog(events: MessageEvent[]) {
  let content = '';
  let reasoning = '';
  for (const event of events) {
    if (event.type === 'TokenDelta') content += event.delta;
    else if (event.type === 'ReasoningDelta') reasoning += event.delta;
  }
  return { content, reasoning };
}

/**
 * Ends replies no instance runs any more (their instance died, or did not
 * answer a stop), and settles them: the conditional end lets exactly one
 * instance win, and only the winner refunds, records usage and announces.
 */
export function createOrphanRecovery(deps: OrphanRecoveryDeps) {
  const { store, catalog, credits } = deps;

  async function endOrphan(messageId: string, status: 'STOPPED' | 'FAILED', staleBefore?: Date): Promise<boolean> {
    const row = await store.orphan(messageId);
    if (!row || !isUnfinished(row.status)) return false;
    const logged = (await deps.eventLog.read(messageId, 0)) ?? [];
    // Encrypted text cannot be rebuilt here (no key): the last sealed flush stands.
    const rebuild = logged[0]?.seq === 1 && row.conversation.privacy === 'PUBLIC';
    const text = rebuild ? textFromLog(logged) : { content: row.content, reasoning: row.reasoning };
    const lastSeq = Math.max(row.lastSeq, logged.at(-1)?.seq ?? 0) + 1;
    const error = status === 'FAILED' ? interrupted : undefined;
    if (!(await store.endOrphan(messageId, { status, ...text, lastSeq, error }, staleBefore))) return false;
    await deps.eventLog.append({ type: 'MessageFinished', messageId, conversationId: row.conversationId, seq: lastSeq, status });
    // Sealed text cannot be counted here; it is charged as input only.
    const producedText = row.conversation.privacy === 'PUBLIC' ? text.content + text.reasoning : '';
    await settleOrphan({ messageId, modelId: row.modelId, producedText, ownerId: row.conversation.ownerId, startedAt: row.createdAt, status }).catch(
      (caught: unknown) => deps.logger.error({ err: caught, messageId }, 'settling an orphaned reply failed'),
    );
    return true;
  }

  /**
   * Charges an orphan its estimated input plus the output it produced, refunds
   * the rest of its reservation, and records the call as usage. The input is
   * known only as the credits reserved for it, so its token count is derived
   * from the model's input price.
   */
  async function settleOrphan(orphan: {
    messageId: string;
    modelId: string | null;
    producedText: string;
    ownerId: string;
    startedAt: Date;
    status: 'STOPPED' | 'FAILED';
  }) {
    const { messageId } = orphan;
    const reservation = await store.reservationOf(messageId);
    const model = orphan.modelId ? catalog.find(orphan.modelId) : undefined;
    if (!reservation || !model) return;
    const reserved = -reservation.delta;
    const outputBudget = outputBudgetOf(model, deps.maxOutputTokensPerReply);
    const inputCredits = Math.max(0, reserved - credits.creditsFor(catalog.costOf(model, 0, outputBudget)));
    const outputTokens = countTokens(orphan.producedText, model.id);
    const used = inputCredits + credits.creditsFor(catalog.costOf(model, 0, outputTokens));
    await credits.settle(reservation.userId, reserved, used, messageId);
    const inputTokens = model.inputPrice ? Math.round(inputCredits / model.inputPrice) : 0;
    const cost = catalog.costOf(model, inputTokens, outputTokens);
    const latencyMs = Date.now() - orphan.startedAt.getTime();
    await deps.usage.record({
      actor: { userId: orphan.ownerId, billedUserId: reservation.userId },
      modelId: model.id,
      action: 'CHAT',
      inputTokens,
      outputTokens,
      cost,
      success: orphan.status !== 'FAILED',
      latencyMs,
      messageId,
    });
    deps.observer?.replySettled({
      model: model.id,
      provider: model.provider,
      status: orphan.status,
      inputTokens,
      outputTokens,
      reasoningTokens: null,
      cost,
      latencyMs,
      timeToFirstTokenMs: null,
    });
  }

  /** Fails every reply in `messageIds`, settling each; how many this call ended. */
  async function failAll(messageIds: string[], staleBefore?: Date): Promise<number> {
    let failed = 0;
    for (const id of messageIds) if (await endOrphan(id, 'FAILED', staleBefore)) failed += 1;
    return failed;
  }

  return {
    endOrphan,

    /** Fails the replies whose instance stopped vouching for them before `staleBefore`. */
    async sweep(runningHere: string[], staleBefore: Date): Promise<number> {
      return failAll(await store.abandonedReplies(runningHere, staleBefore), staleBefore);
    },

    /**
     * At start with one instance: a reply still unfinished was left by a previous
     * run that died. Each is ended and settled like any orphan.
     */
    async failLeftovers(runningHere: string[]): Promise<number> {
      let total = 0;
      for (let batch = await store.abandonedReplies(runningHere); batch.length > 0; batch = await store.abandonedReplies(runningHere)) {
        const failed = await failAll(batch);
        total += failed;
        if (failed === 0) break;
      }
      return total;
    },
  };
}

export type OrphanRecovery = ReturnType<typeof createOrphanRecovery>;
