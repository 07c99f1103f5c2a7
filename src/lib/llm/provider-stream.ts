export interface ProviderUsage {
  inputTokens: number | null;
  outputTokens: number | null;
  reasoningTokens: number | null;
  cachedInputTokens: number | null;
}

export type ProviderEvent =
  | { type: 'text'; delta: string }
  | { type: 'reasoning'; delta: string }
  | { type: 'tool-call-progress' }
  | { type: 'tool-call'; call: { id: string; name: string; arguments: string } }
  | { type: 'usage'; usage: ProviderUsage }
  | { type: 'finish'; reason: string | null };

// biome-ignore lint/suspicious/noExplicitAny: provisional
export function createChunkReader(): { read(chunk: any): ProviderEvent[]; end(): ProviderEvent[]; usage(): ProviderUsage | undefined } {
  let usage: ProviderUsage | undefined;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  return {
    read(chunk) {
      const events: ProviderEvent[] = [];
      if (chunk.usage) {
        usage = { inputTokens: chunk.usage.prompt_tokens, outputTokens: chunk.usage.completion_tokens, reasoningTokens: null, cachedInputTokens: null };
        events.push({ type: 'usage', usage });
      }
      const delta = chunk.choices?.[0]?.delta;
      if (delta?.reasoning_content) events.push({ type: 'reasoning', delta: delta.reasoning_content });
      if (typeof delta?.content === 'string' && delta.content) events.push({ type: 'text', delta: delta.content });
      for (const part of delta?.tool_calls ?? []) {
        const call = calls.get(part.index) ?? { id: part.id ?? `call_${part.index}`, name: '', arguments: '' };
        call.name += part.function?.name ?? '';
        call.arguments += part.function?.arguments ?? '';
        calls.set(part.index, call);
        events.push({ type: 'tool-call-progress' });
      }
      return events;
    },
    end() {
      return [...calls.values()].map((call) => ({ type: 'tool-call', call }) as const);
    },
    usage: () => usage,
  };
}
