import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { encodeGlobalId } from '../../graphql/global-id.js';
import { ConversationRef } from '../conversations/conversations.schema.js';
import { MessageRef, RoleEnum, ToolCallRef } from '../conversations/messages.schema.js';
import type { SendMessageRequest, SendResult } from './chat.service.js';
import type { MessageEvent } from './message-events.js';
import { UploadedFileRef } from '../files/files.schema.js';
import { ToolChoiceEnum, ToolDefinitionInput } from '../tools/tools.schema.js';
import { KnowledgeCollectionRef } from '../knowledge/knowledge.schema.js';

const HistoryMessageInput = builder.inputType('HistoryMessageInput', {
  fields: (t) => ({
    role: t.field({ type: RoleEnum, required: true }),
    content: t.string({ required: true }),
  }),
});

export const SendMessageInput = builder.inputType('SendMessageInput', {
  fields: (t) => ({
    conversationId: t.globalID({ for: [ConversationRef], description: 'Omitted: a new conversation.' }),
    content: t.string({ required: true, description: '1..2000 characters by default (MAX_MESSAGE_LENGTH).' }),
    models: t.idList({ description: 'One reply per model, side by side; the default model if omitted.' }),
    systemPrompt: t.string({ description: "Added after the template prompt, if any (the seeds' master_prompt)." }),
    templateName: t.string({ description: "A built-in or own template; it stays the conversation's template for later turns." }),
    templateVariables: t.field({ type: 'JSON', description: "Values for the template's {{placeholders}}." }),
    history: t.field({ type: [HistoryMessageInput], description: 'Extra context supplied by the client.' }),
    fileIds: t.globalIDList({ for: [UploadedFileRef], description: 'Files uploaded earlier with uploadFile.' }),
    attachments: t.field({ type: ['File'], description: 'Inline uploads (multipart request), with the same limits as uploadFile.' }),
    fileUrls: t.stringList({
      description: "Files the gateway fetches from these URLs (allow-listed hosts only) and uses like uploads (the seeds' share_info_urls).",
    }),
    parentMessageId: t.globalID({ for: [MessageRef], description: 'Answer (or edit) from an earlier point of the conversation: branching.' }),
    enableThinking: t.boolean({ description: 'Reasoning models (modality "reasoning") think harder when true, less when false; other models ignore it.' }),
    fallbackModels: t.idList({
      description: 'Models to try, in order, when a requested model fails before its first token (connection errors, 408/429/5xx, no first token in time).',
    }),
    secret: t.string({ description: 'Your encryption secret, for models that encrypt conversations at rest (or send x-encryption-secret).' }),
    clientMessageId: t.string({
      description:
        'Client-chosen key, unique per caller. Sending the same key again returns the turn it already made (chatStream replays its events) instead of making and charging another.',
    }),
    collectionIds: t.globalIDList({
      for: [KnowledgeCollectionRef],
      description: 'Knowledge collections whose most relevant passages join the context; the reply cites them.',
    }),
    webSearch: t.boolean({ description: 'Search the web for the message and give the model the top results (the web_search feature; needs WEB_SEARCH_URL).' }),
    tools: t.field({
      type: [ToolDefinitionInput],
      description: 'Functions the model may call. A reply that calls them ends REQUIRES_ACTION; answer with submitToolResults.',
    }),
    serverTools: t.stringList({ description: 'Tools the gateway runs itself, by name (see serverTools): web_search, knowledge_search, memory, ...' }),
    toolChoice: t.field({ type: ToolChoiceEnum }),
  }),
});

type SendMessageArgs = typeof SendMessageInput.$inferInput;

function toRequest(input: SendMessageArgs, context: { secret(): string | undefined; useSecret(secret: string): void }): SendMessageRequest {
  // The replies in the payload read with the same secret.
  if (input.secret) context.useSecret(input.secret);
  return {
    conversationId: input.conversationId?.id ?? null,
    parentMessageId: input.parentMessageId?.id ?? null,
    content: input.content,
    models: input.models?.map(String),
    systemPrompt: input.systemPrompt,
    templateName: input.templateName,
    templateVariables: input.templateVariables,
    history: input.history,
    fileIds: input.fileIds?.map(({ id }) => id),
    attachments: input.attachments,
    fileUrls: input.fileUrls,
    enableThinking: input.enableThinking,
    webSearch: input.webSearch,
    secret: context.secret(),
    fallbackModels: input.fallbackModels?.map(String),
    clientMessageId: input.clientMessageId,
    tools: input.tools,
    serverTools: input.serverTools,
    toolChoice: input.toolChoice,
    collectionIds: input.collectionIds?.map(({ id }) => id),
  };
}

const SendMessagePayload = builder.objectRef<SendResult>('SendMessagePayload').implement({
  fields: (t) => ({
    conversation: t.prismaField({
      type: 'Conversation',
      resolve: (query, result, _args, context) => context.services.db.prisma.conversation.findUniqueOrThrow({ ...query, where: { id: result.conversationId } }),
    }),
    userMessage: t.field({ type: MessageRef, resolve: (result) => result.userMessage }),
    replies: t.field({
      type: [MessageRef],
      description: 'One per requested model, already STREAMING (or finished for `chat`).',
      resolve: (result) => result.replies,
    }),
  }),
});

export const MessageEventRef = builder.interfaceRef<MessageEvent>('MessageEvent').implement({
  description: "One event of a reply's life. `seq` increases by one per event of that message.",
  resolveType: (event) => event.type,
  fields: (t) => ({
    messageId: t.id({ resolve: (event) => encodeGlobalId('Message', event.messageId) }),
    seq: t.exposeInt('seq'),
  }),
});

builder.objectRef<Extract<MessageEvent, { type: 'TokenDelta' }>>('TokenDelta').implement({
  interfaces: [MessageEventRef],
  fields: (t) => ({ delta: t.exposeString('delta') }),
});
builder.objectRef<Extract<MessageEvent, { type: 'ReasoningDelta' }>>('ReasoningDelta').implement({
  description:
    'Thinking text of a reasoning model, streamed apart from the answer (DeepSeek reasoning_content, Groq/OpenRouter reasoning, Mistral thinking parts, ...).',
  interfaces: [MessageEventRef],
  fields: (t) => ({ delta: t.exposeString('delta') }),
});
builder.objectRef<Extract<MessageEvent, { type: 'ToolCallEvent' }>>('ToolCallEvent').implement({
  interfaces: [MessageEventRef],
  fields: (t) => ({ toolCall: t.field({ type: ToolCallRef, resolve: (event) => event.toolCall }) }),
});
builder.objectRef<Extract<MessageEvent, { type: 'ToolResultEvent' }>>('ToolResultEvent').implement({
  interfaces: [MessageEventRef],
  fields: (t) => ({ toolCallId: t.exposeID('toolCallId'), result: t.exposeString('result') }),
});
builder.objectRef<Extract<MessageEvent, { type: 'MessageFinished' }>>('MessageFinished').implement({
  description: 'Last event of a reply: the stored message (COMPLETE, STOPPED or FAILED) with usage or error.',
  interfaces: [MessageEventRef],
  fields: (t) => ({
    message: t.prismaField({
      type: 'Message',
      resolve: (query, event, _args, context) => context.services.db.prisma.message.findUniqueOrThrow({ ...query, where: { id: event.messageId } }),
    }),
  }),
});

builder.mutationFields((t) => ({
  sendMessage: t.field({
    type: SendMessagePayload,
    description: 'Starts generation and returns at once; follow the replies with messageStream.',
    authScopes: { chatter: true },
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    resolve: (_root, { input }, context) => context.services.chat.send(requireActor(context), toRequest(input, context)),
  }),
  chat: t.field({
    type: SendMessagePayload,
    description: 'Buffered: returns when every reply is COMPLETE, STOPPED or FAILED.',
    authScopes: { chatter: true },
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    resolve: (_root, { input }, context) => context.services.chat.sendAndWait(requireActor(context), toRequest(input, context)),
  }),
  stopGeneration: t.field({
    type: [MessageRef],
    description: 'Stops replies still streaming: one message, or every reply in a conversation.',
    // Either scope: a key that may start replies may also stop them.
    authScopes: { writer: true, chatter: true },
    args: { messageId: t.arg.globalID({ for: [MessageRef] }), conversationId: t.arg.globalID({ for: [ConversationRef] }) },
    resolve: (_root, args, context) =>
      context.services.chat.stop(requireActor(context), {
        messageId: args.messageId?.id ?? null,
        conversationId: args.conversationId?.id ?? null,
      }),
  }),
  regenerate: t.field({
    type: MessageRef,
    description: 'A new reply to the same user message, streamed like sendMessage; the old reply stays.',
    authScopes: { chatter: true },
    args: { messageId: t.arg.globalID({ required: true, for: [MessageRef] }), model: t.arg.id() },
    resolve: (_root, args, context) =>
      context.services.chat.regenerate(requireActor(context), args.messageId.id, args.model ? String(args.model) : null, context.secret()),
  }),
}));

builder.subscriptionFields((t) => ({
  messageStream: t.field({
    type: MessageEventRef,
    description: 'Replays the events of one reply after `after` (a seq), then follows it live until it finishes.',
    authScopes: { caller: true },
    args: { messageId: t.arg.globalID({ required: true, for: [MessageRef] }), after: t.arg.int() },
    subscribe: (_root, args, context) => context.services.chat.followMessage(requireActor(context), args.messageId.id, args.after ?? 0),
    resolve: (event: MessageEvent) => event,
  }),
  conversationEvents: t.field({
    type: MessageEventRef,
    description: 'Every event of every reply in a conversation (multi-model, several tabs).',
    authScopes: { caller: true },
    args: { conversationId: t.arg.globalID({ required: true, for: [ConversationRef] }) },
    subscribe: (_root, args, context) => context.services.chat.followConversation(requireActor(context), args.conversationId.id),
    resolve: (event: MessageEvent) => event,
  }),
  chatStream: t.field({
    type: MessageEventRef,
    description: "One-shot: sends the message and streams every reply's events, then completes.",
    authScopes: { chatter: true },
    args: { input: t.arg({ type: SendMessageInput, required: true }) },
    subscribe: (_root, { input }, context) => context.services.chat.streamSend(requireActor(context), toRequest(input, context)),
    resolve: (event: MessageEvent) => event,
  }),
}));
