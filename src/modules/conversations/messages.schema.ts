import type { GatewayContext } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { ModelRef } from '../catalog/catalog.schema.js';
import type { ToolCallData } from '../chat/message-events.js';
import type { ContextCitation } from '../knowledge/knowledge-context.js';
import { KnowledgeDocumentRef } from '../knowledge/knowledge.schema.js';

export const RoleEnum = builder.enumType('Role', { values: ['USER', 'ASSISTANT', 'SYSTEM', 'TOOL'] as const });
export const MessageStatusEnum = builder.enumType('MessageStatus', {
  values: ['PENDING', 'STREAMING', 'COMPLETE', 'STOPPED', 'FAILED', 'REQUIRES_ACTION'] as const,
});

export const ToolCallRef = builder.objectRef<ToolCallData>('ToolCall').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    name: t.exposeString('name'),
    arguments: t.exposeString('arguments'),
    result: t.string({ nullable: true, resolve: (call) => call.result ?? null }),
  }),
});

const CitationRef = builder.objectRef<ContextCitation>('Citation').implement({
  fields: (t) => ({
    index: t.exposeInt('index', { description: 'The number the model was told to cite it by: [1], [2], ...' }),
    source: t.exposeString('source'),
    snippet: t.exposeString('snippet'),
    document: t.field({
      type: KnowledgeDocumentRef,
      nullable: true,
      description: 'Null once the document was removed.',
      resolve: (citation, _args, context) =>
        context.services.db.prisma.knowledgeDocument.findFirst({ where: { id: citation.documentId, collection: { ownerId: context.actor?.userId ?? '' } } }),
    }),
  }),
});

interface UsageShape {
  inputTokens: number;
  outputTokens: number;
  cost: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
  timeToFirstReasoningMs: number | null;
  reasoningTokens: number | null;
  cachedInputTokens: number | null;
}

const MessageUsageRef = builder.objectRef<UsageShape>('MessageUsage').implement({
  fields: (t) => ({
    inputTokens: t.exposeInt('inputTokens'),
    outputTokens: t.exposeInt('outputTokens'),
    cost: t.exposeFloat('cost', { description: 'USD, from the catalog prices of the model.' }),
    latencyMs: t.exposeInt('latencyMs'),
    timeToFirstTokenMs: t.exposeInt('timeToFirstTokenMs', { nullable: true, description: 'Until the first token of the answer (thinking not included).' }),
    timeToFirstReasoningMs: t.exposeInt('timeToFirstReasoningMs', {
      nullable: true,
      description: 'Until a reasoning model began to think; null when it streamed no thinking.',
    }),
    reasoningTokens: t.exposeInt('reasoningTokens', {
      nullable: true,
      description: 'Output tokens the provider reports as reasoning (completion_tokens_details.reasoning_tokens).',
    }),
    cachedInputTokens: t.exposeInt('cachedInputTokens', {
      nullable: true,
      description: "Input tokens served from the provider's prompt cache (prompt_tokens_details.cached_tokens).",
    }),
  }),
});

const ProviderErrorRef = builder.objectRef<{ code: string; message: string }>('ProviderError').implement({
  fields: (t) => ({ code: t.exposeString('code'), message: t.exposeString('message') }),
});

/** A reply's answer or thinking: live while it streams in this process, else as stored (opened when sealed). */
async function textOf(message: { id: string; status: string; content: string; reasoning: string }, part: 'text' | 'reasoning', context: GatewayContext) {
  const live = message.status === 'STREAMING' ? context.services.chat.liveContent(message.id) : undefined;
  // Live text of an encrypted reply is shown only to a caller whose secret opens its stored text.
  if (live) return !live.sealed || (await context.ownKeys()) ? live[part] : '';
  const stored = part === 'text' ? message.content : message.reasoning;
  return stored ? ((await context.open(stored)) ?? '') : '';
}

export const MessageRef = builder.prismaNode('Message', {
  id: { field: 'id' },
  // node(id) only finds messages of the caller's own conversations.
  findUnique: (id, context) => ({ id, conversation: { ownerId: context.actor?.userId ?? '' } }),
  fields: (t) => ({
    conversation: t.relation('conversation'),
    role: t.expose('role', { type: RoleEnum }),
    content: t.string({ description: 'What has arrived so far while STREAMING.', resolve: (message, _args, context) => textOf(message, 'text', context) }),
    reasoning: t.string({
      description: 'What a reasoning model streamed as thinking before or while answering; empty when none.',
      resolve: (message, _args, context) => textOf(message, 'reasoning', context),
    }),
    status: t.expose('status', { type: MessageStatusEnum }),
    model: t.field({
      type: ModelRef,
      nullable: true,
      resolve: (message, _args, context) => (message.modelId ? context.services.catalog.find(message.modelId) : null),
    }),
    parent: t.relation('parent', { nullable: true, description: 'The user message an assistant reply answers.' }),
    toolCalls: t.field({
      type: [ToolCallRef],
      resolve: (message) => (Array.isArray(message.toolCalls) ? (message.toolCalls as unknown as ToolCallData[]) : []),
    }),
    citations: t.field({
      type: [CitationRef],
      description: 'Passages of knowledge collections the reply was given, numbered as the model was told to cite them.',
      resolve: (message) => (Array.isArray(message.citations) ? (message.citations as unknown as ContextCitation[]) : []),
    }),
    usage: t.field({
      type: MessageUsageRef,
      nullable: true,
      resolve: (message) =>
        message.inputTokens === null || message.outputTokens === null
          ? null
          : {
              inputTokens: message.inputTokens,
              outputTokens: message.outputTokens,
              cost: message.cost ?? 0,
              latencyMs: message.latencyMs ?? 0,
              timeToFirstTokenMs: message.timeToFirstTokenMs,
              timeToFirstReasoningMs: message.timeToFirstReasoningMs,
              reasoningTokens: message.reasoningTokens,
              cachedInputTokens: message.cachedInputTokens,
            },
    }),
    error: t.field({
      type: ProviderErrorRef,
      nullable: true,
      resolve: (message) => (message.errorCode ? { code: message.errorCode, message: message.errorMessage ?? '' } : null),
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true }),
  }),
});

builder.prismaObjectField('Conversation', 'lastMessage', (t) =>
  t.field({
    type: MessageRef,
    nullable: true,
    select: { messages: { orderBy: { position: 'desc' }, take: 1 } },
    resolve: (conversation) => conversation.messages[0] ?? null,
  }),
);
