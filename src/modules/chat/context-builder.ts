import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { Role } from '../../generated/prisma/enums.js';
import { toolTurnMessages } from './tool-history.js';

export interface StoredTurn {
  id: string;
  role: Role;
  content: string;
  status: string;
  parentId: string | null;
  /** Files attached to a user turn; they go with the turn into later contexts (and are trimmed with it). */
  files?: ContextFile[];
  /** The calls a reply made, with their results (stored JSON). */
  toolCalls?: unknown;
  /** How many files the stored turn has, so turns without any cost no look-up. */
  _count?: { attachments: number };
}

/**
 * The branch that leads to `leafId`, oldest first: each message points at the
 * one it follows, so walking parents from the leaf recovers one linear
 * conversation even when replies were regenerated or edited.
 */
export function branchEndingAt(turns: StoredTurn[], leafId: string | null): StoredTurn[] {
  const byId = new Map(turns.map((turn) => [turn.id, turn]));
  const branch: StoredTurn[] = [];
  const seen = new Set<string>();
  for (
    let current = leafId ? byId.get(leafId) : undefined;
    current && !seen.has(current.id);
    current = current.parentId ? byId.get(current.parentId) : undefined
  ) {
    seen.add(current.id);
    branch.push(current);
  }
  return branch.reverse();
}

export interface ContextFile {
  filename: string;
  /** Extracted text, or null for an image. */
  text: string | null;
  /** data: URL of an image. */
  imageUrl?: string;
}

export interface ContextInput {
  systemPrompt?: string | null;
  /** What the user asked the assistant to remember, most relevant first. */
  memories?: string[];
  /** Web search results for the message, already formatted. */
  webContext?: string;
  /** Numbered passages of knowledge collections, already formatted. */
  knowledge?: string;
  history: StoredTurn[];
  clientHistory?: Array<{ role: Role; content: string }>;
  userContent: string;
  /** Replies that follow the new message: a reply that waited for tool results, when the model goes on after them. */
  afterUser?: StoredTurn[];
  /** Files attached to the new message: text goes after the message, images as image parts. */
  files?: ContextFile[];
}

function wireRole(role: Role): 'user' | 'assistant' | 'system' {
  if (role === 'ASSISTANT') return 'assistant';
  if (role === 'SYSTEM') return 'system';
  return 'user';
}

function userMessage(content: string, files: ContextFile[]): ChatCompletionMessageParam {
  const blocks = files.filter((file) => file.text !== null).map((file) => `[file: ${file.filename.replace(/[\]\n]/g, ' ')}]\n${file.text}`);
  const text = [content, ...blocks].join('\n\n');
  const images = files.filter((file) => file.imageUrl);
  if (images.length === 0) return { role: 'user', content: text };
  return {
    role: 'user',
    content: [{ type: 'text', text }, ...images.map((file) => ({ type: 'image_url' as const, image_url: { url: file.imageUrl! } }))],
  };
}

/** What the provider receives: system prompt, stored branch, client-supplied turns, then the new message. */
export function buildChatMessages(input: ContextInput): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  const memoryLines = (input.memories ?? []).map((memory) => `[memory: ${memory.replace(/[\]\n]+/g, ' ')}]`);
  const system = [input.systemPrompt?.trim(), memoryLines.join('\n'), input.knowledge, input.webContext].filter(Boolean).join('\n\n');
  if (system) messages.push({ role: 'system', content: system });
  for (const turn of input.history) {
    const withTools = turn.role === 'ASSISTANT' ? toolTurnMessages(turn.content, turn.toolCalls) : null;
    if (withTools) {
      messages.push(...withTools);
      continue;
    }
    // A reply that produced nothing adds nothing the model could use.
    if (turn.role === 'ASSISTANT' && !turn.content) continue;
    if (turn.role === 'TOOL') continue;
    if (turn.role === 'USER' && turn.files?.length) messages.push(userMessage(turn.content, turn.files));
    else messages.push({ role: wireRole(turn.role), content: turn.content } as ChatCompletionMessageParam);
  }
  for (const turn of input.clientHistory ?? []) {
    if (turn.role === 'TOOL') continue;
    messages.push({ role: wireRole(turn.role), content: turn.content } as ChatCompletionMessageParam);
  }
  messages.push(userMessage(input.userContent, input.files ?? []));
  for (const turn of input.afterUser ?? []) messages.push(...(toolTurnMessages(turn.content, turn.toolCalls) ?? []));
  return messages;
}

/**
 * Trims the oldest history until the context fits the model's window less the
 * reply's budget; the system prompt, the new message and its files are never
 * trimmed. `tokensOf` counts one message.
 */
export function fitToWindow(
  messages: ChatCompletionMessageParam[],
  available: number,
  tokensOf: (message: ChatCompletionMessageParam) => number,
): { messages: ChatCompletionMessageParam[]; tokens: number } | { overBy: number; tokens: number } {
  const kept = [...messages];
  const counts = kept.map(tokensOf);
  let total = counts.reduce((sum, count) => sum + count, 0);
  const firstHistory = kept[0]?.role === 'system' ? 1 : 0;
  while (total > available && kept.length - firstHistory > 1) {
    kept.splice(firstHistory, 1);
    total -= counts.splice(firstHistory, 1)[0]!;
  }
  return total <= available ? { messages: kept, tokens: total } : { overBy: total - available, tokens: total };
}
