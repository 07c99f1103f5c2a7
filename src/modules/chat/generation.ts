import OpenAI from 'openai';
import type { ChatCompletionChunk, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { PrismaClient } from '../../generated/prisma/client.js';
import type { MessageStatus } from '../../generated/prisma/enums.js';
import type { Logger } from '../../lib/logger.js';
import { countTokens, TOKENS_PER_MESSAGE } from '../../lib/tokens.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import { IMAGE_TOKENS } from '../files/files.service.js';
import type { EventLog } from './event-log.js';
import { defaultUpstreamPolicy, type UpstreamPolicy } from '../../lib/llm/upstream-policy.js';
import type { MessageEvent, MessageEventInput, ToolCallData } from './message-events.js';

/** One model the reply may come from: the requested one first, then its fallbacks. */
export interface GenerationCandidate {
  model: CatalogModel;
  client: OpenAI;
  messages: ChatCompletionMessageParam[];
  /** Sent to the provider as the reply's token limit. */
  maxOutputTokens?: number;
}

export interface GenerationRequest {
  messageId: string;
  conversationId: string;
  /** The requested model first; later ones are tried when it fails transiently before its first token. */
  candidates: GenerationCandidate[];
  /** Encrypts the text before it is stored (encrypted conversations); the live events stay plaintext for the caller. */
  sealContent?: (text: string) => Promise<string>;
  /** enableThinking: true asks reasoning models for more effort, false for less; others ignore it. */
  reasoningEffort?: 'low' | 'high';
  /**
   * Set when the provider is called while the turn is still being stored: true
   * once it is, false when the debit was refused. Until then events are held
   * back and nothing is written; a refused reply is dropped without a trace.
   */
  admitted?: Promise<boolean>;
  /** Runs once the reply is stored: settle credits, record usage, index for search. */
  onFinish?: (summary: GenerationSummary) => Promise<void>;
}

export interface GenerationSummary {
  status: MessageStatus;
  /** The model that produced the reply (a fallback, when the requested one failed). */
  model: CatalogModel;
  content: string;
  inputTokens: number;
  outputTokens: number;
  /** USD actually owed: zero when the provider failed before producing anything. */
  cost: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
}

export interface GenerationDeps {
  prisma: PrismaClient;
  eventLog: EventLog;
  logger: Logger;
  flushIntervalMs: number;
  policy?: UpstreamPolicy;
  costOf(model: CatalogModel, inputTokens: number, outputTokens: number): number;
  now?: () => number;
}

/** `refused`: the turn's debit was refused after the provider was already called. */
export type StopReason = 'user' | 'shutdown' | 'refused';

export interface RunningGeneration {
  messageId: string;
  conversationId: string;
  stop(reason: StopReason): void;
  /** The text received so far. */
  currentContent(): string;
  /** Whether its conversation is encrypted at rest. */
  sealed: boolean;
  /** Settles after the final write and the MessageFinished event. */
  done: Promise<MessageStatus>;
}

interface Outcome {
  status: MessageStatus;
  error?: { code: string; message: string };
}

type TimeoutKind = 'first-token' | 'idle' | 'total';

class UpstreamTimeout extends Error {
  constructor(
    readonly kind: TimeoutKind,
    ms: number,
  ) {
    super(
      kind === 'first-token'
        ? `No first token within ${ms} ms.`
        : kind === 'idle'
          ? `The provider sent nothing for ${ms} ms.`
          : `The reply took longer than ${ms} ms.`,
    );
  }
}

/** Failures worth another try before the first token: the connection, a timeout to first token, 408, 409, 429 and 5xx. */
/** A connection that broke while the body was being read (undici reports it as a TypeError). */
const isBrokenConnection = (error: unknown) =>
  error instanceof TypeError && /terminated|socket|ECONNRESET/i.test(`${error.message} ${String(error.cause ?? '')}`);

function isTransient(error: unknown): boolean {
  if (error instanceof UpstreamTimeout) return error.kind === 'first-token';
  if (error instanceof OpenAI.APIConnectionError || isBrokenConnection(error)) return true;
  const status = error instanceof OpenAI.APIError ? error.status : undefined;
  return status === 408 || status === 409 || status === 429 || (status !== undefined && status >= 500);
}

/** The provider's Retry-After (seconds, a date, or retry-after-ms), capped; else exponential backoff with jitter. */
function retryDelay(error: unknown, attempt: number, policy: UpstreamPolicy): number {
  const headers = error instanceof OpenAI.APIError ? error.headers : undefined;
  const milliseconds = Number(headers?.get('retry-after-ms'));
  const header = headers?.get('retry-after');
  let asked = Number.isFinite(milliseconds) && milliseconds > 0 ? milliseconds : undefined;
  if (asked === undefined && header) asked = /^\d+(\.\d+)?$/.test(header) ? Number(header) * 1000 : Date.parse(header) - Date.now();
  if (asked !== undefined && Number.isFinite(asked)) return Math.min(Math.max(asked, 0), policy.maxRetryAfterMs);
  return policy.retryBaseMs * 2 ** attempt + Math.random() * policy.retryBaseMs;
}

function describeFailure(error: unknown, receivedAnything: boolean): Outcome['error'] {
  if (error instanceof UpstreamTimeout) return { code: 'UPSTREAM_TIMEOUT', message: error.message };
  if (isBrokenConnection(error)) return { code: 'STREAM_INTERRUPTED', message: 'The provider closed the stream before the reply was complete.' };
  if (error instanceof OpenAI.APIConnectionError) {
    return receivedAnything
      ? { code: 'STREAM_INTERRUPTED', message: 'The provider closed the stream before the reply was complete.' }
      : { code: 'PROVIDER_UNAVAILABLE', message: 'The provider could not be reached.' };
  }
  if (error instanceof OpenAI.APIError && error.status) {
    return { code: 'PROVIDER_ERROR', message: `The provider answered HTTP ${error.status}: ${error.message}` };
  }
  if (receivedAnything) {
    return { code: 'STREAM_INTERRUPTED', message: 'The provider closed the stream before the reply was complete.' };
  }
  return { code: 'PROVIDER_ERROR', message: error instanceof Error ? error.message : 'Unknown provider failure.' };
}

/** Tokens of one message as a model counts them: its text, its images (estimated), and the framing. */
export function messageTokens(message: ChatCompletionMessageParam, modelId: string): number {
  const content = message.content;
  if (typeof content === 'string') return countTokens(content, modelId) + TOKENS_PER_MESSAGE;
  let total = TOKENS_PER_MESSAGE;
  for (const part of content ?? []) total += 'text' in part ? countTokens(part.text, modelId) : part.type === 'image_url' ? IMAGE_TOKENS : 0;
  return total;
}

export function promptTokens(messages: ChatCompletionMessageParam[], modelId: string): number {
  return messages.reduce((sum, message) => sum + messageTokens(message, modelId), 0);
}

/**
 * Runs one reply against its provider, independent of whoever asked for it:
 * every chunk becomes a seq-numbered event, the text reaches the database at
 * most once per flush interval, and the row always ends COMPLETE, STOPPED or FAILED.
 */
export function startGeneration(deps: GenerationDeps, request: GenerationRequest): RunningGeneration {
  const now = deps.now ?? Date.now;
  const controller = new AbortController();
  let stopReason: StopReason | undefined;
  let seq = 0;
  let content = '';
  let flushedLength = 0;
  const admitted = request.admitted ?? Promise.resolve(true);
  // The reply's row may not exist yet: text flushes queue behind the admission.
  let flushInFlight: Promise<unknown> = admitted;
  const toolCalls = new Map<number, ToolCallData>();

  const base = { messageId: request.messageId, conversationId: request.conversationId };
  // Events of a reply not yet admitted wait here, in order, so no follower sees a reply that may be refused.
  let held: MessageEvent[] | null = request.admitted ? [] : null;
  const emit = (event: MessageEventInput): Promise<void> => {
    const numbered = { ...event, seq: ++seq } as MessageEvent;
    if (held) {
      held.push(numbered);
      return Promise.resolve();
    }
    return deps.eventLog.append(numbered);
  };
  const released = admitted.then(async (ok) => {
    if (!ok) return stop('refused');
    // Appended one by one; events emitted meanwhile join the queue, so seq order holds.
    try {
      while (held && held.length > 0) await deps.eventLog.append(held.shift()!);
    } catch (error) {
      deps.logger.warn({ err: error, messageId: request.messageId }, 'releasing held events failed');
    }
    held = null;
  });

  const stored = (text: string) => (request.sealContent ? request.sealContent(text) : Promise.resolve(text));

  function flush() {
    if (content.length === flushedLength) return;
    flushedLength = content.length;
    const snapshot = content;
    const atSeq = seq;
    // Chained, so an older snapshot never lands after a newer one.
    flushInFlight = flushInFlight
      .then(
        async () =>
          (await admitted) &&
          deps.prisma.$executeRaw`UPDATE "Message" SET content = ${await stored(snapshot)}, "lastSeq" = ${atSeq} WHERE id = ${request.messageId}`,
      )
      .catch((error: unknown) => deps.logger.warn({ err: error, messageId: request.messageId }, 'stream flush failed'));
  }

  function collectToolCalls(chunk: ChatCompletionChunk) {
    for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) {
      const call = toolCalls.get(delta.index) ?? { id: delta.id ?? `call_${delta.index}`, name: '', arguments: '' };
      if (delta.id) call.id = delta.id;
      call.name += delta.function?.name ?? '';
      call.arguments += delta.function?.arguments ?? '';
      toolCalls.set(delta.index, call);
    }
  }

  const policy = deps.policy ?? defaultUpstreamPolicy;
  let activeModel = request.candidates[0]!.model;

  function params(candidate: GenerationCandidate) {
    return {
      model: candidate.model.id,
      messages: candidate.messages,
      stream: true as const,
      stream_options: { include_usage: true },
      ...(request.reasoningEffort && candidate.model.modalities.includes('reasoning') ? { reasoning_effort: request.reasoningEffort } : {}),
      // OpenAI's reasoning models only accept the newer name; most compatible servers only the older one.
      ...(candidate.maxOutputTokens === undefined
        ? {}
        : candidate.model.provider === 'openai'
          ? { max_completion_tokens: candidate.maxOutputTokens }
          : { max_tokens: candidate.maxOutputTokens }),
    };
  }

  /** Waits, unless the reply is stopped meanwhile. */
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      controller.signal.addEventListener('abort', done, { once: true });
      function done() {
        clearTimeout(timer);
        controller.signal.removeEventListener('abort', done);
        resolve();
      }
    });

  /**
   * Streams from the first candidate that answers. Before the first token a
   * transient failure is retried (Retry-After honoured) and then handed to the
   * next candidate; after it, a failure ends the reply with what arrived.
   */
  async function stream(): Promise<{ outcome: Outcome; usage?: OpenAI.CompletionUsage; firstTokenAt?: number }> {
    let usage: OpenAI.CompletionUsage | undefined;
    let firstTokenAt: number | undefined;
    let receivedContent = false;
    const deadline = Date.now() + policy.totalTimeoutMs;
    let lastError: unknown;
    for (const candidate of request.candidates) {
      activeModel = candidate.model;
      for (let attempt = 0; ; attempt += 1) {
        const attemptAbort = new AbortController();
        const onStop = () => attemptAbort.abort();
        controller.signal.addEventListener('abort', onStop, { once: true });
        let timer: ReturnType<typeof setTimeout> | undefined;
        let timedOut: UpstreamTimeout | undefined;
        // One watchdog: first token, then the gap between chunks, never past the total deadline.
        const arm = (kind: 'first-token' | 'idle') => {
          clearTimeout(timer);
          const limit = kind === 'first-token' ? policy.firstTokenTimeoutMs : policy.idleTimeoutMs;
          const left = deadline - Date.now();
          timer = setTimeout(
            () => {
              timedOut = left < limit ? new UpstreamTimeout('total', policy.totalTimeoutMs) : new UpstreamTimeout(kind, limit);
              attemptAbort.abort();
            },
            Math.max(0, Math.min(limit, left)),
          );
        };
        arm('first-token');
        try {
          const chunks = await candidate.client.chat.completions.create(params(candidate), { signal: attemptAbort.signal, timeout: policy.connectTimeoutMs });
          for await (const chunk of chunks) {
            if (chunk.usage) usage = chunk.usage;
            collectToolCalls(chunk);
            const delta = chunk.choices[0]?.delta?.content;
            if (delta || chunk.choices[0]?.delta?.tool_calls) receivedContent = true;
            if (receivedContent) arm('idle');
            if (!delta) continue;
            firstTokenAt ??= now();
            content += delta;
            await emit({ ...base, type: 'TokenDelta', delta });
          }
          // The SDK ends the iteration quietly when its request is aborted.
          if (timedOut && !stopReason) throw timedOut;
          return { outcome: { status: stopReason ? 'STOPPED' : 'COMPLETE' }, usage, firstTokenAt };
        } catch (caught) {
          if (stopReason) return { outcome: { status: 'STOPPED' }, usage, firstTokenAt };
          const error = timedOut ?? caught;
          lastError = error;
          deps.logger.warn({ err: error, messageId: request.messageId, model: candidate.model.id, attempt }, 'upstream attempt failed');
          if (receivedContent || !isTransient(error) || Date.now() >= deadline) {
            return { outcome: { status: 'FAILED', error: describeFailure(error, receivedContent) }, usage, firstTokenAt };
          }
          if (attempt >= policy.maxRetries) break;
          await pause(Math.min(retryDelay(error, attempt, policy), Math.max(0, deadline - Date.now())));
          if (stopReason) return { outcome: { status: 'STOPPED' }, usage, firstTokenAt };
        } finally {
          clearTimeout(timer);
          controller.signal.removeEventListener('abort', onStop);
        }
      }
    }
    return { outcome: { status: 'FAILED', error: describeFailure(lastError, false) }, usage, firstTokenAt };
  }

  async function run(): Promise<MessageStatus> {
    const startedAt = now();
    const flushTimer = setInterval(flush, deps.flushIntervalMs);
    flushTimer.unref();
    const { outcome, usage, firstTokenAt } = await stream();
    clearInterval(flushTimer);
    // Nothing was stored or reserved for a refused turn: nothing to write, settle or tell.
    if (!(await admitted)) return 'FAILED';
    await flushInFlight;

    for (const call of toolCalls.values()) await emit({ ...base, type: 'ToolCallEvent', toolCall: call });

    // Without provider usage (stopped, failed, or a provider that sends none),
    // count the tokens actually sent and produced so nobody pays for more.
    const used = request.candidates.find((candidate) => candidate.model === activeModel) ?? request.candidates[0]!;
    const inputTokens = usage?.prompt_tokens ?? promptTokens(used.messages, activeModel.id);
    const outputTokens = usage?.completion_tokens ?? countTokens(content, activeModel.id);
    const finishedAt = now();
    const finalSeq = seq + 1;
    // A call that failed before the provider produced anything is not charged.
    const producedNothing = outcome.status === 'FAILED' && !usage && content === '';
    const cost = producedNothing ? 0 : deps.costOf(activeModel, inputTokens, outputTokens);
    try {
      // Raw SQL: this runs once per reply, and Prisma would spend more CPU compiling it than the database spends running it.
      await deps.prisma.$executeRaw`
        UPDATE "Message" SET content = ${await stored(content)}, status = CAST(${outcome.status} AS "MessageStatus"),
          "modelId" = ${activeModel.id}, "lastSeq" = ${finalSeq}, "toolCalls" = ${JSON.stringify([...toolCalls.values()])}::jsonb,
          "inputTokens" = ${inputTokens}, "outputTokens" = ${outputTokens}, cost = ${cost}::float8,
          "latencyMs" = ${finishedAt - startedAt}, "timeToFirstTokenMs" = ${firstTokenAt === undefined ? null : firstTokenAt - startedAt}::int,
          "errorCode" = ${outcome.error?.code ?? null}, "errorMessage" = ${outcome.error?.message ?? null},
          "completedAt" = CAST(${new Date(finishedAt).toISOString()} AS timestamp(3))
        WHERE id = ${request.messageId}`;
    } catch (error) {
      deps.logger.error({ err: error, messageId: request.messageId }, 'final write of a reply failed');
    }
    try {
      await request.onFinish?.({
        status: outcome.status,
        model: activeModel,
        content,
        inputTokens,
        outputTokens,
        cost,
        latencyMs: finishedAt - startedAt,
        timeToFirstTokenMs: firstTokenAt === undefined ? null : firstTokenAt - startedAt,
      });
    } catch (error) {
      deps.logger.error({ err: error, messageId: request.messageId }, 'finishing the bookkeeping of a reply failed');
    }
    await emit({ ...base, type: 'MessageFinished', status: outcome.status });
    await released;
    return outcome.status;
  }

  function stop(reason: StopReason) {
    stopReason ??= reason;
    controller.abort();
  }

  return {
    messageId: request.messageId,
    conversationId: request.conversationId,
    stop,
    currentContent: () => content,
    sealed: Boolean(request.sealContent),
    done: run(),
  };
}
