/**
 * Reads the chunks of an OpenAI-compatible streamed chat completion (as the
 * openai SDK yields them) into typed events. This is the one place that knows
 * the chunk shapes providers really send; see test/fixtures/provider-streams.
 */
import { createTextStream, toValidText } from '../text.js';

export interface ProviderUsage {
  inputTokens: number | null;
  outputTokens: number | null;
  reasoningTokens: number | null;
  cachedInputTokens: number | null;
}

export interface ProviderToolCall {
  id: string;
  name: string;
  arguments: string;
}

export type ProviderEvent =
  | { type: 'text'; delta: string }
  | { type: 'reasoning'; delta: string }
  /** A fragment of a tool call arrived: liveness only, the call comes whole later. */
  | { type: 'tool-call-progress' }
  /** A complete tool call, emitted when its choice finishes (or at end). */
  | { type: 'tool-call'; call: ProviderToolCall }
  /** The usage known so far, merged over every chunk that carried some. */
  | { type: 'usage'; usage: ProviderUsage }
  /** reason is null when the stream ended without one. */
  | { type: 'finish'; reason: string | null };

export interface ChunkReader {
  read(chunk: unknown): ProviderEvent[];
  /** Call once the stream is over: flushes held text and any tool calls not yet emitted. */
  end(): ProviderEvent[];
  /** The merged usage, or undefined if no chunk carried any. */
  usage(): ProviderUsage | undefined;
}

type Json = Record<string, unknown>;

interface PendingCall {
  index: number | undefined;
  id: string;
  name: string;
  arguments: string;
  emitted: boolean;
}

const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const stringOf = (value: unknown): string => (typeof value === 'string' ? value : '');
const countOf = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : null);

/** Mistral's content parts: text parts are text, thinking parts hold the reasoning as text parts. */
function readContentParts(parts: unknown[]): { text: string; reasoning: string } {
  let text = '';
  let reasoning = '';
  for (const part of parts) {
    if (!isRecord(part)) continue;
    if (part.type === 'text') text += stringOf(part.text);
    if (part.type === 'thinking' && Array.isArray(part.thinking)) {
      for (const inner of part.thinking) if (isRecord(inner) && inner.type === 'text') reasoning += stringOf(inner.text);
    }
  }
  return { text, reasoning };
}

/**
 * reasoning_content (DeepSeek, Qwen, Kimi, Grok) or reasoning (Groq, Cerebras,
 * OpenRouter, vLLM). OpenRouter repeats the same text in reasoning_details, so
 * those are read only when neither field has any.
 */
function readReasoning(delta: Json): string {
  const direct = stringOf(delta.reasoning_content) || stringOf(delta.reasoning);
  if (direct || !Array.isArray(delta.reasoning_details)) return direct;
  let text = '';
  for (const detail of delta.reasoning_details) {
    if (!isRecord(detail)) continue;
    if (detail.type === 'reasoning.text') text += stringOf(detail.text);
    if (detail.type === 'reasoning.summary') text += stringOf(detail.summary);
  }
  return text;
}

/** Merges the usage a chunk carries into the running total; returns whether anything was there. */
function mergeUsage(total: ProviderUsage, usage: unknown): boolean {
  if (!isRecord(usage)) return false;
  const prompt = isRecord(usage.prompt_tokens_details) ? usage.prompt_tokens_details : {};
  const completion = isRecord(usage.completion_tokens_details) ? usage.completion_tokens_details : {};
  const found: ProviderUsage = {
    inputTokens: countOf(usage.prompt_tokens),
    outputTokens: countOf(usage.completion_tokens),
    reasoningTokens: countOf(completion.reasoning_tokens),
    // Kimi also reports cached_tokens at the top level, DeepSeek as prompt_cache_hit_tokens.
    cachedInputTokens: countOf(prompt.cached_tokens) ?? countOf(usage.cached_tokens) ?? countOf(usage.prompt_cache_hit_tokens),
  };
  let any = false;
  for (const key of Object.keys(found) as Array<keyof ProviderUsage>) {
    if (found[key] === null) continue;
    total[key] = found[key];
    any = true;
  }
  return any;
}

interface Fragment {
  index: number | undefined;
  id: string;
  name: string;
  arguments: string;
}

function fragmentOf(raw: Json): Fragment {
  const fn = isRecord(raw.function) ? raw.function : {};
  return { index: typeof raw.index === 'number' ? raw.index : undefined, id: stringOf(raw.id), name: stringOf(fn.name), arguments: stringOf(fn.arguments) };
}

function isCompleteJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether a fragment starts another call where one is already open: a new id
 * with a name (Ollama and others put parallel calls all at index 0; a new id
 * without a name is a proxy renaming fragments), or a name once the open call's
 * arguments have begun, unless it repeats the name of a call whose arguments
 * are still incomplete (some servers send the name on every fragment).
 */
function opensNewCall(open: PendingCall, fragment: Fragment): boolean {
  if (fragment.id && open.id && fragment.id !== open.id) return fragment.name !== '';
  if (!fragment.name || !open.arguments) return false;
  return fragment.name !== open.name || isCompleteJson(open.arguments);
}

/** A known id wins; then the latest call at the fragment's index, or the last call when it has no index (Gemini sends none). */
function callFor(calls: PendingCall[], fragment: Fragment): PendingCall | undefined {
  const known = fragment.id ? calls.find((call) => call.id === fragment.id) : undefined;
  if (known) return known;
  const open = fragment.index === undefined ? calls.at(-1) : calls.findLast((call) => call.index === fragment.index);
  return open && !opensNewCall(open, fragment) ? open : undefined;
}

function addFragment(calls: PendingCall[], fragment: Fragment): boolean {
  let call = callFor(calls, fragment);
  if (!call) {
    // A fragment with nothing in it (Gemini's signature-only metadata) opens no call.
    if (!fragment.id && !fragment.name && !fragment.arguments) return false;
    call = { index: fragment.index, id: '', name: '', arguments: '', emitted: false };
    calls.push(call);
  }
  if (fragment.id && !call.id) call.id = fragment.id;
  // Some servers repeat the whole name on every fragment; others split it.
  if (fragment.name !== call.name) call.name += fragment.name;
  call.arguments += fragment.arguments;
  return true;
}

/** Every call not yet emitted, complete and made valid, in first-seen order. */
function completeCalls(calls: PendingCall[]): ProviderEvent[] {
  const events: ProviderEvent[] = [];
  for (const [position, call] of calls.entries()) {
    if (call.emitted || (!call.name && !call.arguments)) continue;
    call.emitted = true;
    const id = toValidText(call.id) || `call_${position}`;
    events.push({ type: 'tool-call', call: { id, name: toValidText(call.name), arguments: toValidText(call.arguments) } });
  }
  return events;
}

class Reader implements ChunkReader {
  private readonly channels = { text: createTextStream(), reasoning: createTextStream() };
  private readonly calls: PendingCall[] = [];
  private readonly total: ProviderUsage = { inputTokens: null, outputTokens: null, reasoningTokens: null, cachedInputTokens: null };
  private sawUsage = false;
  private finished = false;
  private ended = false;

  read(chunk: unknown): ProviderEvent[] {
    const events: ProviderEvent[] = [];
    if (this.ended || !isRecord(chunk)) return events;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    // Only the first choice counts: the gateway never asks for n > 1.
    const first = choices.find((choice) => isRecord(choice) && (choice.index ?? 0) === 0);
    let usageArrived = isRecord(first) && this.readChoice(events, first);
    if (mergeUsage(this.total, chunk.usage)) usageArrived = true;
    // Groq reports usage in x_groq.usage on the last chunk.
    if (isRecord(chunk.x_groq) && mergeUsage(this.total, chunk.x_groq.usage)) usageArrived = true;
    if (usageArrived) {
      this.sawUsage = true;
      events.push({ type: 'usage', usage: { ...this.total } });
    }
    return events;
  }

  end(): ProviderEvent[] {
    const events: ProviderEvent[] = [];
    if (this.ended) return events;
    this.ended = true;
    this.finish(events, null);
    return events;
  }

  usage(): ProviderUsage | undefined {
    return this.sawUsage ? { ...this.total } : undefined;
  }

  private readChoice(events: ProviderEvent[], choice: Json): boolean {
    if (isRecord(choice.delta)) this.readDelta(events, choice.delta);
    const reason = stringOf(choice.finish_reason);
    if (reason) this.finish(events, reason);
    // Kimi puts the usage inside the finishing choice.
    return mergeUsage(this.total, choice.usage);
  }

  private readDelta(events: ProviderEvent[], delta: Json) {
    this.push(events, 'reasoning', readReasoning(delta));
    if (Array.isArray(delta.content)) {
      const parts = readContentParts(delta.content);
      this.push(events, 'reasoning', parts.reasoning);
      this.push(events, 'text', parts.text);
    } else {
      // A refusal is the reply the user gets, so it reads as text.
      this.push(events, 'text', stringOf(delta.content) + stringOf(delta.refusal));
    }
    let progressed = false;
    for (const fragment of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      if (isRecord(fragment) && addFragment(this.calls, fragmentOf(fragment))) progressed = true;
    }
    if (progressed) events.push({ type: 'tool-call-progress' });
  }

  private push(events: ProviderEvent[], type: 'text' | 'reasoning', piece: string) {
    const delta = this.channels[type].push(piece);
    if (delta) events.push({ type, delta });
  }

  private finish(events: ProviderEvent[], reason: string | null) {
    for (const type of ['reasoning', 'text'] as const) {
      const rest = this.channels[type].flush();
      if (rest) events.push({ type, delta: rest });
    }
    events.push(...completeCalls(this.calls));
    if (!this.finished) events.push({ type: 'finish', reason });
    this.finished = true;
  }
}

export function createChunkReader(): ChunkReader {
  return new Reader();
}
