/**
 * What the deterministic responder says: the demo reply describing what it
 * received, the thinking of its reasoning replies, token estimates and the
 * offline embedder. Pure functions of the request.
 */
import { toolResultsSentence } from './demo-tools.js';

const EMBEDDING_DIMENSIONS = 64;

type Part = { type: string; text?: string; image_url?: { url: string } };
export type WireMessage = { role: string; content: string | Part[] | null };

function textOf(content: WireMessage['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((part) => (part.type === 'text' ? (part.text ?? '') : '')).join('\n');
}

function quote(text: string, limit = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return `"${flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat}"`;
}

/** The demo reply: names the model and everything the gateway put in its context. */
export function describeRequest(body: { model?: string; messages?: WireMessage[]; reasoning_effort?: string }): string {
  const messages = body.messages ?? [];
  const system = messages
    .filter((message) => message.role === 'system')
    .map((message) => textOf(message.content))
    .join('\n');
  const lastUser = [...messages].reverse().find((message) => message.role === 'user');
  const earlier = messages.filter((message) => message.role !== 'system' && message !== lastUser).length;
  const allText = messages.map((message) => textOf(message.content)).join('\n');
  const files = [...allText.matchAll(/^\[file: ([^\]\n]+)\]/gm)].map((match) => match[1]!.trim());
  const memories = [...system.matchAll(/^\[memory: ([^\]\n]+)\]/gm)].map((match) => match[1]!.trim());
  const sources = [...system.matchAll(/^\[source (\d+): ([^\]\n]+)\]/gm)].map((match) => `[${match[1]}] ${match[2]!.trim()}`);
  const images = messages.flatMap((message) => (Array.isArray(message.content) ? message.content : [])).filter((part) => part.type === 'image_url').length;
  const systemPrompt = system
    .replace(/^\[memory: [^\]\n]+\]\n?/gm, '')
    .replace(/^\[(knowledge: |source \d+: ).*\n?/gm, '')
    .trim();
  const userText = lastUser
    ? textOf(lastUser.content)
        .replace(/^\[file: [^\]\n]+\][\s\S]*?(?=^\[file: |$(?![\s\S]))/gm, '')
        .trim()
    : '';

  const sentences = [
    `Demo reply from ${body.model ?? 'demo'}.`,
    `I received ${messages.length} message${messages.length === 1 ? '' : 's'}.`,
    systemPrompt ? `System prompt: ${quote(systemPrompt)}.` : '',
    lastUser ? `You said: ${quote(userText || textOf(lastUser.content))}.` : '',
    earlier > 0 ? `Earlier turns: ${earlier}.` : '',
    files.length ? `Files: ${files.join(', ')}.` : '',
    memories.length ? `Memories: ${memories.join('; ')}.` : '',
    sources.length ? `Sources: ${sources.join('; ')}.` : '',
    images ? `Images: ${images}.` : '',
    body.reasoning_effort ? `Reasoning effort: ${body.reasoning_effort}.` : '',
    toolResultsSentence(messages),
  ];
  return sentences.filter(Boolean).join(' ');
}

/**
 * What the responder thinks before answering: the behaviour's count of
 * "thinkN " deltas, or, when the caller asked for a reasoning effort, a short
 * deterministic thought (longer for high effort), as reasoning models do.
 */
export function thinkingOf(body: { messages?: WireMessage[]; reasoning_effort?: string }, thinking: number | undefined): string[] {
  if (thinking !== undefined) return Array.from({ length: thinking }, (_, index) => `think${index + 1} `);
  if (!body.reasoning_effort) return [];
  const lastUser = [...(body.messages ?? [])].reverse().find((message) => message.role === 'user');
  const thought = [
    `The user wrote ${quote(lastUser ? textOf(lastUser.content) : '', 60)}.`,
    body.reasoning_effort === 'high' ? 'I will describe everything I received, in order, and keep it short.' : '',
    'Answer now.',
  ];
  return deltasOf(thought.filter(Boolean).join(' '));
}

/** Splits text into word-sized deltas, each keeping its trailing space. */
export function deltasOf(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [text];
}

/** Deterministic token estimate: about four characters a token plus framing per message. */
export function promptTokensOf(messages: WireMessage[]): number {
  return messages.reduce((total, message) => total + Math.ceil(textOf(message.content).length / 4) + 3, 0);
}

function hashWord(word: string): number {
  let hash = 2166136261;
  for (let index = 0; index < word.length; index += 1) hash = Math.imul(hash ^ word.charCodeAt(index), 16777619);
  return hash >>> 0;
}

/** A bag of hashed words: texts sharing words point the same way. */
export function embed(text: string, dimensions = EMBEDDING_DIMENSIONS): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const hash = hashWord(word);
    vector[hash % dimensions]! += hash & 1 ? 1 : -1;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => (norm === 1 && value === 0 ? 1 / Math.sqrt(dimensions) : value / norm));
}
