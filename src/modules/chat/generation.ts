import type { MessageStatus } from '../../generated/prisma/enums.js';
import { type Clock, systemClock } from '../../lib/clock.js';
import type { ProviderEvent } from '../../lib/llm/provider-stream.js';
import type { ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { callUpstream, type UpstreamCandidate } from '../../lib/llm/upstream-call.js';
import { defaultUpstreamPolicy, type UpstreamPolicy } from '../../lib/llm/upstream-policy.js';
import type { Logger } from '../../lib/logger.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { EventLog } from './event-log.js';
import { summarize, totalOf } from './reply-figures.js';
import { startFlushTimer } from './flush-timer.js';
import type { MessageEvent, MessageEventInput, ToolCallData } from './message-events.js';
import type { FinishedReply, MessageStore } from './message-store.js';
import { type LoopOutcome, runToolLoop, type StepFigures, validArguments } from './tool-loop.js';
import type { ToolRun } from '../tools/tool-setup.js';
import type { ReplyObserver } from '../operations/reply-observer.js';

export type GenerationCandidate = UpstreamCandidate<CatalogModel>;

export interface GenerationRequest {
  messageId: string;
  conversationId: string;
  /** The requested model first; later ones are tried when it fails transiently before anything arrives. */
  candidates: GenerationCandidate[];
  /** Encrypts text before it is stored (encrypted conversations); the live events stay plaintext for the caller. */
  sealContent?: (text: string) => Promise<string>;
  /** enableThinking: true asks reasoning models for more effort, false for less; others ignore it. */
  reasoningEffort?: 'low' | 'high';
  /**
   * Set when the provider is called while the turn is still being stored: true
   * once it is, false when the debit was refused. Until then events are held
   * back and nothing is written; a refused reply is dropped without a trace.
   */
  admitted?: Promise<boolean>;
  /** Tools the model is offered; server tools run in a loop bounded by steps and by the reply's reservation. */
  tools?: { run: ToolRun; reservation: number; creditsFor(cost: number): number; worstCase(candidate: GenerationCandidate): number };
  /** Runs once, only when this reply's final write is the one that ended it: settle credits, record usage, index. */
  onFinish?: (summary: GenerationSummary) => Promise<void>;
}

/** What the settlement of a reply is told: the stored figures, with the model that answered and the plaintext. */
export type GenerationSummary = Pick<
  FinishedReply,
  'status' | 'inputTokens' | 'outputTokens' | 'reasoningTokens' | 'cachedInputTokens' | 'cost' | 'latencyMs' | 'timeToFirstTokenMs'
> & {
  /** The model that produced the reply (a fallback, when the requested one failed). */
  model: CatalogModel;
  content: string;
  /** Model calls before the last one, each of which ran tools (recorded as TOOL usage). */
  toolSteps: StepFigures[];
};

export interface GenerationDeps {
  store: MessageStore;
  eventLog: EventLog;
  logger: Logger;
  flushIntervalMs: number;
  /** Flush ticks to let pass between text flushes (1: every tick); raised while many replies stream at once. */
  flushStride?: () => number;
  policy?: UpstreamPolicy;
  costOf(model: CatalogModel, inputTokens: number, outputTokens: number): number;
  clock?: Clock;
  observer?: ReplyObserver;
}

/** `refused`: the turn's debit was refused after the provider was already called; `ended`: another instance ended the row. */
export type StopReason = 'user' | 'shutdown' | 'refused' | 'ended';

export interface RunningGeneration {
  messageId: string;
  conversationId: string;
  stop(reason: StopReason): void;
  /** The answer and thinking received so far. */
  currentContent(): string;
  currentReasoning(): string;
  /** Whether its conversation is encrypted at rest. */
  sealed: boolean;
  /** Settles after the final write and the MessageFinished event. */
  done: Promise<MessageStatus>;
}

/**
 * A reply's events in seq order. Events of a reply not yet admitted wait, in
 * order, so no follower sees a reply that may be refused.
 */
function createEmitter(eventLog: EventLog, logger: Logger, request: GenerationRequest, admitted: Promise<boolean>) {
  let seq = 0;
  let held: MessageEvent[] | null = request.admitted ? [] : null;
  const emit = (event: MessageEventInput): Promise<void> => {
    const numbered = { ...event, seq: ++seq } as MessageEvent;
    if (held) {
      held.push(numbered);
      return Promise.resolve();
    }
    return eventLog.append(numbered);
  };
  const released = admitted.then(async (ok) => {
    if (!ok) return false;
    // Appended one by one; events emitted meanwhile join the queue, so seq order holds.
    try {
      while (held && held.length > 0) await eventLog.append(held.shift()!);
    } catch (error) {
      logger.warn({ err: error, messageId: request.messageId }, 'releasing held events failed');
    }
    held = null;
    return true;
  });
  return { emit, released, seq: () => seq };
}

/**
 * Runs one reply against its provider, independent of whoever asked for it:
 * every chunk becomes a seq-numbered event, the text reaches the database at
 * most once per flush interval, and the row always ends COMPLETE, STOPPED or
 * FAILED. Only the write that ends the row settles and announces it.
 */
export function startGeneration(deps: GenerationDeps, request: GenerationRequest): RunningGeneration {
  const clock = deps.clock ?? systemClock;
  const controller = new AbortController();
  let stopReason: StopReason | undefined;
  let content = '';
  let reasoning = '';
  let flushedLength = 0;
  let firstTokenAt: number | undefined;
  let firstReasoningAt: number | undefined;
  const toolCalls: ToolCallData[] = [];
  const admitted = request.admitted ?? Promise.resolve(true);
  const base = { messageId: request.messageId, conversationId: request.conversationId };
  const events = createEmitter(deps.eventLog, deps.logger, request, admitted);
  void events.released.then((ok) => ok || stop('refused'));
  // The reply's row may not exist yet: text flushes queue behind the admission.
  let flushInFlight: Promise<unknown> = admitted;
  const stored = (text: string) => (request.sealContent ? request.sealContent(text) : Promise.resolve(text));

  function flush() {
    if (content.length + reasoning.length === flushedLength) return;
    flushedLength = content.length + reasoning.length;
    const [text, thinking, atSeq] = [content, reasoning, events.seq()];
    // Chained, so an older snapshot never lands after a newer one.
    flushInFlight = flushInFlight
      .then(async () => (await admitted) && deps.store.flushText(request.messageId, await stored(text), await stored(thinking), atSeq))
      .catch((error: unknown) => deps.logger.warn({ err: error, messageId: request.messageId }, 'stream flush failed'));
  }

  async function onEvent(event: ProviderEvent) {
    if (event.type === 'text') {
      firstTokenAt ??= clock.now();
      content += event.delta;
      await events.emit({ ...base, type: 'TokenDelta', delta: event.delta });
    } else if (event.type === 'reasoning') {
      firstReasoningAt ??= clock.now();
      reasoning += event.delta;
      await events.emit({ ...base, type: 'ReasoningDelta', delta: event.delta });
    } else if (event.type === 'tool-call') {
      toolCalls.push(event.call);
    }
  }

  /** One provider call; its text and calls are this step's only. */
  async function step(candidates: GenerationCandidate[], toolChoice?: ChatCompletionToolChoiceOption) {
    const [contentStart, reasoningStart] = [content.length, reasoning.length];
    toolCalls.length = 0;
    const result = await callUpstream({
      candidates,
      policy: deps.policy ?? defaultUpstreamPolicy,
      signal: controller.signal,
      reasoningEffort: request.reasoningEffort,
      tools: request.tools?.run.definitions,
      toolChoice,
      logger: deps.logger.child({ messageId: request.messageId }),
      clock,
      onEvent,
    });
    const { model } = result.candidate;
    deps.observer?.providerCall({
      requestedModel: candidates[0]!.model.id,
      model: model.id,
      provider: model.provider,
      status: result.status,
      retries: result.retries,
    });
    const text = { content: content.slice(contentStart), reasoning: reasoning.slice(reasoningStart) };
    return { result, calls: [...toolCalls], content: text.content, figures: summarize(deps.costOf, result, text) };
  }

  /** Without tools, one call whose tool calls (a provider may send some anyway) are announced at the end. */
  async function generate(): Promise<LoopOutcome> {
    const tools = request.tools;
    if (tools)
      return runToolLoop(
        { run: tools.run, signal: controller.signal, budget: tools, step, emit: (event) => events.emit({ ...base, ...event }) },
        request.candidates,
      );
    const only = await step(request.candidates);
    const calls = only.calls.map((call) => ({ ...call, arguments: validArguments(call.arguments) }));
    for (const call of calls) await events.emit({ ...base, type: 'ToolCallEvent', toolCall: call });
    return { steps: [only], toolCalls: calls, awaiting: false };
  }

  async function finish(outcome: LoopOutcome, startedAt: number): Promise<MessageStatus> {
    const lastStep = outcome.steps.at(-1)!;
    const earlier = outcome.steps.slice(0, -1).map((each) => each.figures);
    const stopped = stopReason && lastStep.result.status !== 'FAILED';
    const status: MessageStatus = stopped ? 'STOPPED' : outcome.awaiting ? 'REQUIRES_ACTION' : lastStep.result.status;
    const summary = totalOf(lastStep.figures, earlier);
    const finishedAt = clock.now();
    const since = (at: number | undefined) => (at === undefined ? null : at - startedAt);
    const reply: FinishedReply = {
      ...summary,
      messageId: request.messageId,
      status,
      content: await stored(content),
      reasoning: await stored(reasoning),
      modelId: summary.model.id,
      lastSeq: events.seq() + 1,
      toolCalls: outcome.toolCalls,
      toolSetup: outcome.awaiting ? request.tools?.run.setup : undefined,
      latencyMs: finishedAt - startedAt,
      timeToFirstTokenMs: since(firstTokenAt),
      timeToFirstReasoningMs: since(firstReasoningAt),
      error: lastStep.result.error ?? outcome.error,
      completedAt: new Date(finishedAt),
    };
    if (!(await writeFinal(reply))) return status;
    try {
      await request.onFinish?.({ ...summary, toolSteps: earlier, status, content, latencyMs: reply.latencyMs, timeToFirstTokenMs: reply.timeToFirstTokenMs });
    } catch (error) {
      deps.logger.error({ err: error, messageId: request.messageId }, 'finishing the bookkeeping of a reply failed');
    }
    await events.emit({ ...base, type: 'MessageFinished', status });
    return status;
  }

  /** True when this write ended the row. A row someone else ended (a stop elsewhere, the orphan sweep) is theirs to settle. */
  async function writeFinal(reply: FinishedReply): Promise<boolean> {
    try {
      if (await deps.store.finishReply(reply)) return true;
      deps.logger.warn({ messageId: request.messageId }, 'reply was already ended elsewhere; not settling it again');
    } catch (error) {
      // Left unfinished: once this instance stops vouching for it, the orphan sweep ends and settles it.
      deps.logger.error({ err: error, messageId: request.messageId }, 'final write of a reply failed');
    }
    return false;
  }

  async function run(): Promise<MessageStatus> {
    const startedAt = clock.now();
    const stopFlushing = startFlushTimer(deps.flushIntervalMs, deps.flushStride ?? (() => 1), flush);
    const outcome = await generate();
    stopFlushing();
    // Nothing was stored or reserved for a refused turn: nothing to write, settle or tell.
    if (!(await admitted)) return 'FAILED';
    await flushInFlight;
    const status = await finish(outcome, startedAt);
    await events.released;
    return status;
  }

  function stop(reason: StopReason) {
    stopReason ??= reason;
    controller.abort();
  }

  return {
    ...base,
    stop,
    currentContent: () => content,
    currentReasoning: () => reasoning,
    sealed: Boolean(request.sealContent),
    done: run(),
  };
}
