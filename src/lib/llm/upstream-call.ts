import type OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { type Clock, systemClock } from '../clock.js';
import type { Logger } from '../logger.js';
import { createChunkReader, type ProviderEvent, type ProviderUsage } from './provider-stream.js';
import { describeFailure, isTransient, retryDelay, type UpstreamFailure, UpstreamTimeout } from './upstream-failures.js';
import type { UpstreamPolicy } from './upstream-policy.js';
import { SpanStatusCode, traced } from '../tracing.js';

export interface UpstreamModel {
  id: string;
  provider: string;
  modalities: string[];
}

/** One model the reply may come from: the requested one first, then its fallbacks. */
export interface UpstreamCandidate<Model extends UpstreamModel = UpstreamModel> {
  model: Model;
  client: OpenAI;
  messages: ChatCompletionMessageParam[];
  /** Sent to the provider as the reply's token limit. */
  maxOutputTokens?: number;
}

export interface UpstreamCall<Model extends UpstreamModel> {
  candidates: UpstreamCandidate<Model>[];
  policy: UpstreamPolicy;
  /** Aborted when the reply is stopped. */
  signal: AbortSignal;
  reasoningEffort?: 'low' | 'high';
  /** Functions the model may call, in the chat-completions format, and whether it must or may not. */
  tools?: ChatCompletionTool[];
  toolChoice?: ChatCompletionToolChoiceOption;
  logger: Logger;
  clock?: Clock;
  /** Every text, reasoning and tool-call event, in order; the call waits for each. */
  onEvent(event: ProviderEvent): Promise<void> | void;
}

export interface UpstreamResult<Model extends UpstreamModel> {
  status: 'COMPLETE' | 'STOPPED' | 'FAILED';
  error?: UpstreamFailure;
  /** The candidate that answered (or the last one tried). */
  candidate: UpstreamCandidate<Model>;
  usage?: ProviderUsage;
  /** Attempts repeated after a transient failure, over every candidate (moving to a fallback is not one). */
  retries: number;
}

function requestFor(candidate: UpstreamCandidate, call: Pick<UpstreamCall<UpstreamModel>, 'reasoningEffort' | 'tools' | 'toolChoice'>) {
  const { model, maxOutputTokens } = candidate;
  const { reasoningEffort } = call;
  return {
    model: model.id,
    messages: candidate.messages,
    stream: true as const,
    stream_options: { include_usage: true },
    ...(call.tools?.length ? { tools: call.tools, ...(call.toolChoice ? { tool_choice: call.toolChoice } : {}) } : {}),
    ...(reasoningEffort && model.modalities.includes('reasoning') ? { reasoning_effort: reasoningEffort } : {}),
    // OpenAI's reasoning models only accept the newer name; most compatible servers only the older one.
    ...(maxOutputTokens === undefined ? {} : model.provider === 'openai' ? { max_completion_tokens: maxOutputTokens } : { max_tokens: maxOutputTokens }),
  };
}

/** Waits, unless the signal aborts meanwhile. */
function pause(clock: Clock, ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    const timer = clock.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clock.clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * One watchdog per attempt: until anything arrives it allows the first-token
 * timeout, then the idle timeout between chunks, never past the deadline.
 * Reasoning and tool-call fragments count as arrivals: a model that thinks
 * for minutes is alive.
 */
function watchdog(clock: Clock, policy: UpstreamPolicy, deadline: number, abort: () => void) {
  let timer: unknown;
  let fired: UpstreamTimeout | undefined;
  const arm = (kind: 'first-token' | 'idle') => {
    clock.clearTimeout(timer);
    const limit = kind === 'first-token' ? policy.firstTokenTimeoutMs : policy.idleTimeoutMs;
    const left = deadline - clock.now();
    timer = clock.setTimeout(
      () => {
        fired = left < limit ? new UpstreamTimeout('total', policy.totalTimeoutMs) : new UpstreamTimeout(kind, limit);
        abort();
      },
      Math.max(0, Math.min(limit, left)),
    );
  };
  return { arm, fired: () => fired, clear: () => clock.clearTimeout(timer) };
}

/**
 * Streams from the first candidate that answers. Before anything arrives a
 * transient failure is retried (Retry-After honoured) and then handed to the
 * next candidate; after it, a failure ends the reply with what arrived.
 */
export async function callUpstream<Model extends UpstreamModel>(call: UpstreamCall<Model>): Promise<UpstreamResult<Model>> {
  const counts = { retries: 0 };
  const requested = call.candidates[0]!.model;
  return traced('llm.provider.call', { 'gen_ai.request.model': requested.id, 'gen_ai.system': requested.provider }, async (span) => {
    const startedAt = performance.now();
    let firstEventAt: number | undefined;
    const onEvent = (event: ProviderEvent) => {
      firstEventAt ??= performance.now();
      return call.onEvent(event);
    };
    const result = await callCandidates({ ...call, onEvent }, counts);
    span.setAttributes({
      'gen_ai.response.model': result.candidate.model.id,
      'gen_ai.usage.input_tokens': result.usage?.inputTokens ?? undefined,
      'gen_ai.usage.output_tokens': result.usage?.outputTokens ?? undefined,
      'gen_ai.usage.reasoning_tokens': result.usage?.reasoningTokens ?? undefined,
      'llm.time_to_first_token_ms': firstEventAt === undefined ? undefined : Math.round(firstEventAt - startedAt),
      'llm.retries': counts.retries,
      'llm.status': result.status,
    });
    if (result.status === 'FAILED') span.setStatus({ code: SpanStatusCode.ERROR, message: result.error?.message });
    return { ...result, retries: counts.retries };
  });
}

type Outcome<Model extends UpstreamModel> = Omit<UpstreamResult<Model>, 'retries'>;

async function callCandidates<Model extends UpstreamModel>(call: UpstreamCall<Model>, counts: { retries: number }): Promise<Outcome<Model>> {
  const clock = call.clock ?? systemClock;
  const { policy, signal } = call;
  const deadline = clock.now() + policy.totalTimeoutMs;
  let lastError: unknown;
  let candidate = call.candidates[0]!;
  for (candidate of call.candidates) {
    for (let attempt = 0; ; attempt += 1) {
      const result = await attemptOnce(call, candidate, clock, deadline);
      if (!('retry' in result)) return result;
      lastError = result.retry;
      if (clock.now() >= deadline) return { status: 'FAILED', error: describeFailure(lastError, false), candidate };
      if (attempt >= policy.maxRetries) break;
      counts.retries += 1;
      await pause(clock, Math.min(retryDelay(lastError, attempt, policy, clock.now()), Math.max(0, deadline - clock.now())), signal);
      if (signal.aborted) return { status: 'STOPPED', candidate };
    }
  }
  return { status: 'FAILED', error: describeFailure(lastError, false), candidate };
}

async function attemptOnce<Model extends UpstreamModel>(
  call: UpstreamCall<Model>,
  candidate: UpstreamCandidate<Model>,
  clock: Clock,
  deadline: number,
): Promise<Outcome<Model> | { retry: unknown }> {
  const attemptAbort = new AbortController();
  const onStop = () => attemptAbort.abort();
  call.signal.addEventListener('abort', onStop, { once: true });
  const dog = watchdog(clock, call.policy, deadline, () => attemptAbort.abort());
  const reader = createChunkReader();
  let receivedAnything = false;
  const deliver = async (events: ProviderEvent[]) => {
    for (const event of events) {
      if (event.type === 'usage' || event.type === 'finish') continue;
      receivedAnything = true;
      if (event.type !== 'tool-call-progress') await call.onEvent(event);
    }
  };
  dog.arm('first-token');
  try {
    const chunks = await candidate.client.chat.completions.create(requestFor(candidate, call), {
      signal: attemptAbort.signal,
      timeout: call.policy.connectTimeoutMs,
    });
    for await (const chunk of chunks) {
      await deliver(reader.read(chunk));
      if (receivedAnything) dog.arm('idle');
    }
    await deliver(reader.end());
    // The SDK ends the iteration quietly when its request is aborted.
    const timedOut = dog.fired();
    if (timedOut && !call.signal.aborted) throw timedOut;
    return { status: call.signal.aborted ? 'STOPPED' : 'COMPLETE', candidate, usage: reader.usage() };
  } catch (caught) {
    if (call.signal.aborted) return { status: 'STOPPED', candidate, usage: reader.usage() };
    const error = dog.fired() ?? caught;
    call.logger.warn({ err: error, model: candidate.model.id }, 'upstream attempt failed');
    if (receivedAnything || !isTransient(error)) return { status: 'FAILED', error: describeFailure(error, receivedAnything), candidate, usage: reader.usage() };
    return { retry: error };
  } finally {
    dog.clear();
    call.signal.removeEventListener('abort', onStop);
  }
}
