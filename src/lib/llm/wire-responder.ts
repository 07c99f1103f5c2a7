/**
 * A deterministic OpenAI-compatible responder: the built-in demo provider
 * (reached in-process through the openai SDK's `fetch` option) and the fake
 * upstream of the tests (behind a real HTTP port) both speak through it, so the
 * gateway always exercises the real wire protocol: chat completions with SSE
 * chunks, usage, tool calls, errors, embeddings, speech, transcription and
 * realtime client secrets.
 */
import { randomUUID } from 'node:crypto';
import { demoHear, demoSpeech } from './demo-audio.js';
import { demoImageGeneration } from './demo-image.js';
import { demoToolCalls } from './demo-tools.js';
import { deltasOf, describeRequest, embed, promptTokensOf, thinkingOf, type WireMessage } from './demo-replies.js';

export interface ResponderBehaviour {
  /** Pause before each streamed chunk. */
  delayMs?: number;
  /** Extra pause before the first content chunk. */
  firstTokenDelayMs?: number;
  /** A fixed reply instead of the descriptive one. */
  reply?: string;
  /** Exactly this many deltas ("tok1 ", "tok2 ", ...) instead of the descriptive reply. */
  tokens?: number;
  /** Answer with this HTTP status and an OpenAI-style error body. */
  failStatus?: number;
  /** With failStatus: fail only this many requests, then answer normally. */
  failTimes?: number;
  /** With failStatus: fail only requests for these models. */
  failModels?: string[];
  /** Benchmarks: each delta is the time it was sent (ms since the epoch, with decimals), so receivers can measure lag. */
  stampDeltas?: boolean;
  /** Send this many content deltas, then keep the connection open and silent. */
  stallAfter?: number;
  retryAfterSeconds?: number;
  /** Break the stream after this many content deltas, without [DONE]. */
  disconnectAfter?: number;
  /** false: never send usage, even when asked for it. */
  usage?: boolean;
  /** Think first: this many reasoning deltas ("think1 ", ...) as delta.reasoning_content, before the answer. */
  thinking?: number;
  /** Pause before each reasoning delta. */
  thinkingDelayMs?: number;
  /** Stream these tool calls and finish with finish_reason "tool_calls". */
  toolCalls?: Array<{ name: string; arguments: string }>;
  /** Answer a streaming chat completion with exactly this SSE body (a recorded provider stream), delayMs before each event. */
  replay?: string;
}

export interface RecordedRequest {
  path: string;
  method: string;
  headers: Record<string, string>;
  body: any;
  receivedAt: number;
}

export interface WireResponderOptions {
  behaviour?: () => ResponderBehaviour;
  onRequest?: (request: RecordedRequest) => void;
  delay?: (ms: number, signal?: AbortSignal) => Promise<void>;
  now?: () => number;
}

export const DEMO_MODEL_IDS = ['demo', 'demo-mini', 'demo-private', 'demo-team', 'demo-realtime', 'demo-embed', 'demo-image'];
const defaultDelay = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function errorResponse(status: number, retryAfterSeconds?: number): Response {
  const type = status === 429 ? 'rate_limit_exceeded' : status >= 500 ? 'server_error' : 'invalid_request_error';
  return json(
    status,
    { error: { message: `Simulated upstream failure (HTTP ${status})`, type, code: type, param: null } },
    retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
  );
}

export function createWireResponder(options: WireResponderOptions = {}): (request: Request) => Promise<Response> {
  const delay = options.delay ?? defaultDelay;
  const now = options.now ?? Date.now;
  let completions = 0;
  // Counted per behaviour, so setting a new behaviour starts the count again.
  const failuresBy = new WeakMap<ResponderBehaviour, number>();

  function replayStream(body: string, delayMs: number, signal: AbortSignal): Response {
    // Each piece ends with its blank line, so the pieces join back to exactly the recorded bytes.
    const events = body.match(/[\s\S]*?\n\n|[\s\S]+$/g) ?? [];
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        for (const event of events) {
          if (event.includes('data:')) await delay(delayMs, signal);
          if (signal.aborted) return controller.close();
          controller.enqueue(encoder.encode(event));
        }
        controller.close();
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
  }

  async function chatCompletion(body: any, behaviour: ResponderBehaviour, signal: AbortSignal): Promise<Response> {
    if (body.stream && behaviour.replay !== undefined) return replayStream(behaviour.replay, behaviour.delayMs ?? 0, signal);
    const messages: WireMessage[] = body.messages ?? [];
    // A model asked to call a tool says nothing else; with tool_choice "none" it calls none.
    const toolCalls = body.tool_choice === 'none' ? [] : (behaviour.toolCalls ?? demoToolCalls(body));
    const text = behaviour.reply ?? (behaviour.tokens !== undefined || (toolCalls.length && !behaviour.toolCalls) ? '' : describeRequest(body));
    const allDeltas = behaviour.tokens === undefined ? deltasOf(text) : Array.from({ length: behaviour.tokens }, (_, index) => `tok${index + 1} `);
    // Like a real provider, stop at the caller's token limit (one delta counts as one token here).
    const limit = body.max_completion_tokens ?? body.max_tokens;
    const deltas = typeof limit === 'number' ? allDeltas.slice(0, limit) : allDeltas;
    const truncated = deltas.length < allDeltas.length;
    const id = `chatcmpl-${(completions += 1).toString(36).padStart(8, '0')}`;
    const created = Math.floor(now() / 1000);
    const thoughts = thinkingOf(body, behaviour.thinking);
    const completionTokens = deltas.length + thoughts.length;
    const usage = {
      prompt_tokens: promptTokensOf(messages),
      completion_tokens: completionTokens,
      total_tokens: promptTokensOf(messages) + completionTokens,
      ...(thoughts.length ? { completion_tokens_details: { reasoning_tokens: thoughts.length } } : {}),
    };
    const finishReason = toolCalls.length ? 'tool_calls' : truncated ? 'length' : 'stop';

    if (!body.stream) {
      // A buffered answer takes as long as its stream would have.
      await delay((behaviour.firstTokenDelayMs ?? 0) + (behaviour.delayMs ?? 0) * deltas.length, signal);
      return json(200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [
          {
            index: 0,
            message: {
              role: 'assistant',
              content: deltas.join(''),
              ...(toolCalls.length ? { tool_calls: toolCalls.map((call, index) => ({ id: `call_${index}`, type: 'function', function: call })) } : {}),
            },
            finish_reason: finishReason,
          },
        ],
        ...(behaviour.usage === false ? {} : { usage }),
      });
    }

    const encoder = new TextEncoder();
    const chunk = (choices: unknown[], extra: object = {}) =>
      encoder.encode(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, choices, ...extra })}\n\n`);
    const stream = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          controller.enqueue(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
          for (const thought of thoughts) {
            await delay(behaviour.thinkingDelayMs ?? behaviour.delayMs ?? 0, signal);
            if (signal.aborted) return controller.close();
            controller.enqueue(chunk([{ index: 0, delta: { reasoning_content: thought }, finish_reason: null }]));
          }
          await delay(behaviour.firstTokenDelayMs ?? 0, signal);
          for (const [index, delta] of deltas.entries()) {
            await delay(behaviour.delayMs ?? 0, signal);
            if (signal.aborted) return controller.close();
            if (behaviour.stallAfter !== undefined && index >= behaviour.stallAfter) {
              await delay(24 * 60 * 60 * 1000, signal);
              return controller.close();
            }
            if (behaviour.disconnectAfter !== undefined && index >= behaviour.disconnectAfter) {
              controller.error(new Error('upstream connection reset'));
              return;
            }
            const content = behaviour.stampDeltas ? `${(performance.timeOrigin + performance.now()).toFixed(3)} ` : delta;
            controller.enqueue(chunk([{ index: 0, delta: { content }, finish_reason: null }]));
          }
          for (const [index, call] of toolCalls.entries()) {
            const half = Math.ceil(call.arguments.length / 2);
            controller.enqueue(
              chunk([
                {
                  index: 0,
                  delta: {
                    tool_calls: [{ index, id: `call_${index}`, type: 'function', function: { name: call.name, arguments: call.arguments.slice(0, half) } }],
                  },
                  finish_reason: null,
                },
              ]),
            );
            controller.enqueue(
              chunk([{ index: 0, delta: { tool_calls: [{ index, function: { arguments: call.arguments.slice(half) } }] }, finish_reason: null }]),
            );
          }
          controller.enqueue(chunk([{ index: 0, delta: {}, finish_reason: finishReason }]));
          if (body.stream_options?.include_usage && behaviour.usage !== false) controller.enqueue(chunk([], { usage }));
          controller.enqueue(encoder.encode('data: [DONE]\n\n'));
          controller.close();
        } catch (error) {
          if (!signal.aborted) controller.error(error);
        }
      },
    });
    return new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } });
  }

  function embeddings(body: any): Response {
    const inputs: string[] = Array.isArray(body.input) ? body.input : [String(body.input ?? '')];
    const tokens = inputs.reduce((total, input) => total + Math.ceil(input.length / 4), 0);
    return json(200, {
      object: 'list',
      // The SDK asks for base64 (little-endian float32) by default, as OpenAI supports.
      data: inputs.map((input, index) => {
        const vector = embed(input, Number.isInteger(body.dimensions) && body.dimensions > 0 && body.dimensions <= 4_096 ? body.dimensions : undefined);
        const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
        return { object: 'embedding', index, embedding };
      }),
      model: body.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    });
  }

  async function transcription(form: FormData): Promise<Response> {
    const file = form.get('file');
    if (!(file instanceof Blob)) return json(400, { error: { message: 'file is required', type: 'invalid_request_error' } });
    const heard = demoHear(Buffer.from(await file.arrayBuffer()));
    const language = String(form.get('language') ?? '') || 'english';
    if (form.get('response_format') !== 'verbose_json') return json(200, { text: heard.text });
    return json(200, {
      task: 'transcribe',
      language,
      duration: heard.seconds,
      text: heard.text,
      segments: [{ id: 0, start: 0, end: heard.seconds, text: heard.text, avg_logprob: -0.05, no_speech_prob: 0.01 }],
    });
  }

  function speech(body: any): Response {
    const text = String(body.input ?? '');
    if (!text) return json(400, { error: { message: 'input is required', type: 'invalid_request_error' } });
    return new Response(new Uint8Array(demoSpeech(text)), { status: 200, headers: { 'content-type': 'audio/wav' } });
  }

  function clientSecret(body: any): Response {
    const created = Math.floor(now() / 1000);
    const seconds = body.expires_after?.seconds ?? 600;
    return json(200, {
      value: `ek_demo_${randomUUID().replace(/-/g, '')}`,
      expires_at: created + seconds,
      session: { type: 'realtime', ...(body.session ?? {}) },
    });
  }

  const routes: Record<string, (body: any, behaviour: ResponderBehaviour, request: Request) => Response | Promise<Response>> = {
    '/chat/completions': (body, behaviour, request) => chatCompletion(body, behaviour, request.signal),
    '/embeddings': (body) => embeddings(body),
    '/audio/transcriptions': (form) => transcription(form),
    '/audio/speech': (body) => speech(body),
    '/realtime/client_secrets': (body) => clientSecret(body),
    '/images/generations': (body) => json(...demoImageGeneration(body, Math.floor(now() / 1000))),
  };

  return async (request) => {
    const path = new URL(request.url).pathname;
    const multipart = request.headers.get('content-type')?.startsWith('multipart/form-data');
    const body = request.method !== 'POST' ? undefined : multipart ? await request.formData() : await request.json().catch(() => ({}));
    const recorded =
      body instanceof FormData
        ? Object.fromEntries([...body.entries()].map(([key, value]) => [key, typeof value === 'string' ? value : `<${value.size} bytes>`]))
        : body;
    options.onRequest?.({ path, method: request.method, headers: Object.fromEntries(request.headers), body: recorded, receivedAt: now() });
    const behaviour = options.behaviour?.() ?? {};

    if (request.method === 'GET' && path.endsWith('/models')) {
      return json(200, { object: 'list', data: DEMO_MODEL_IDS.map((id) => ({ id, object: 'model', created: 0, owned_by: 'demo' })) });
    }
    const route = Object.keys(routes).find((suffix) => path.endsWith(suffix));
    if (request.method !== 'POST' || !route) {
      return json(404, { error: { message: `Unknown endpoint ${request.method} ${path}`, type: 'invalid_request_error', code: 'not_found' } });
    }
    if (
      behaviour.failStatus &&
      (!behaviour.failModels || behaviour.failModels.includes(body?.model)) &&
      (behaviour.failTimes === undefined || (failuresBy.get(behaviour) ?? 0) < behaviour.failTimes)
    ) {
      failuresBy.set(behaviour, (failuresBy.get(behaviour) ?? 0) + 1);
      return errorResponse(behaviour.failStatus, behaviour.retryAfterSeconds);
    }
    return routes[route]!(body, behaviour, request);
  };
}
