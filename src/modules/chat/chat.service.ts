import { Repeater } from 'graphql-yoga';
import type { Message, PrismaClient } from '../../generated/prisma/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import type { Config } from '../../lib/config.js';
import { badInput } from '../../lib/errors.js';
import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayPubSub } from '../../lib/pubsub.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { ConversationAccessService } from '../encryption/conversation-access.js';
import type { EncryptionService } from '../encryption/encryption.service.js';
import type { FilesService } from '../files/files.service.js';
import type { Actor } from '../identity/actor.js';
import type { LimitsService } from '../limits/limits.service.js';
import type { MemoriesService } from '../memories/memories.service.js';
import type { KnowledgeService } from '../knowledge/knowledge.service.js';
import type { SearchService } from '../search/search.service.js';
import type { WebSearch } from '../search/web-search.js';
import type { TemplatesService } from '../templates/templates.service.js';
import type { UsageService } from '../usage/usage.service.js';
import { branchEndingAt, buildChatMessages } from './context-builder.js';
import type { EventLog } from './event-log.js';
import type { MessageEvent } from './message-events.js';
import { createMessageStore, isUnfinished } from './message-store.js';
import { createOrphanRecovery } from './orphan-recovery.js';
import { createReplyRunner } from './reply-runner.js';
import type { ReplyObserver } from '../operations/reply-observer.js';
import { createReplyStream } from './reply-stream.js';
import { createTurnAdmission } from './turn-admission.js';
import { createTurnContext } from './turn-context.js';
import { type PlanSettings, planWithFallbacks, privacyOf, requireVision, resolveModels } from './turn-plan.js';
import { createTurnSender } from './turn-sender.js';
import { createServerToolRegistry } from '../tools/server-tools/registry.js';
import { type ClientToolDefinition, prepareTools as prepareToolRun, type ToolChoiceName } from '../tools/tool-setup.js';
import { createToolResults } from './tool-results.js';

export interface SendMessageRequest {
  conversationId?: string | null;
  content: string;
  models?: string[] | null;
  systemPrompt?: string | null;
  templateName?: string | null;
  templateVariables?: unknown;
  history?: Array<{ role: Role; content: string }> | null;
  /** Files uploaded earlier with uploadFile. */
  fileIds?: string[] | null;
  /** Files sent inline with the message. */
  attachments?: File[] | null;
  /** Files the gateway fetches (allow-listed hosts only) and uses like uploads. */
  fileUrls?: string[] | null;
  parentMessageId?: string | null;
  /** Ask reasoning models to think harder (true) or less (false). */
  enableThinking?: boolean | null;
  /** Search the web for the message and put the results in the context (the web_search feature). */
  webSearch?: boolean | null;
  /** The caller's encryption secret, for models that encrypt conversations at rest. */
  secret?: string | null;
  /** Models to fall back on, in order, when a requested one fails before its first token. */
  fallbackModels?: string[] | null;
  /** The caller's key for this turn: sending it again returns the turn it already made. */
  clientMessageId?: string | null;
  /** Functions the model may call; a reply that calls them waits for submitToolResults. */
  tools?: ClientToolDefinition[] | null;
  /** Tools the gateway runs itself, by name. */
  serverTools?: string[] | null;
  toolChoice?: ToolChoiceName | null;
  /** Knowledge collections whose most relevant passages join the context. */
  collectionIds?: string[] | null;
}

export interface SendResult {
  conversationId: string;
  userMessage: Message;
  replies: Message[];
}

export interface ChatDeps {
  prisma: PrismaClient;
  eventLog: EventLog;
  pubsub: GatewayPubSub;
  catalog: CatalogService;
  registry: ProviderRegistry;
  logger: Logger;
  config: Config;
  limits: LimitsService;
  credits: CreditsService;
  templates: TemplatesService;
  usage: UsageService;
  memories: MemoriesService;
  knowledge: KnowledgeService;
  search: SearchService;
  files: FilesService;
  webSearch: WebSearch;
  encryption: EncryptionService;
  access: ConversationAccessService;
  /** Told of each provider call and settled reply (metrics). */
  observer?: ReplyObserver;
}

/**
 * The public operations of chat. A turn goes one way: plan (turn-plan) →
 * context (turn-context) → store (message-store) → run (reply-runner, over
 * the provider-stream adapter) → stream (reply-stream) → settle (once, by the
 * write that ended the reply).
 */
export function createChatService(deps: ChatDeps) {
  const { config, catalog } = deps;
  const settings: PlanSettings = { catalog, creditsFor: deps.credits.creditsFor, ...config };
  const store = createMessageStore(deps.prisma, deps.credits);
  const context = createTurnContext({ prisma: deps.prisma, encryption: deps.encryption, files: deps.files, maxFilesPerRequest: config.maxFilesPerRequest });
  const orphans = createOrphanRecovery({ ...deps, store, maxOutputTokensPerReply: config.maxOutputTokensPerReply });
  const runner = createReplyRunner({
    ...deps,
    store,
    orphans,
    flushIntervalMs: config.flushIntervalMs,
    flushesPerSecond: config.flushesPerSecond,
    upstream: config.upstream,
  });
  const stream = createReplyStream({ store, eventLog: deps.eventLog, pubsub: deps.pubsub, isRunningHere: runner.isRunning });
  const admission = createTurnAdmission({ prisma: deps.prisma, limits: deps.limits, settings });
  const serverTools = createServerToolRegistry(deps);
  const prepareTools = (actor: Actor, input: Pick<SendMessageRequest, 'tools' | 'serverTools' | 'toolChoice'>) =>
    prepareToolRun(serverTools, config.tools, actor, { clientTools: input.tools ?? [], serverTools: input.serverTools ?? [], toolChoice: input.toolChoice });
  const sender = createTurnSender({ ...deps, settings, store, context, runner, admission, prepareTools });
  const toolResults = createToolResults({ ...deps, settings, store, context, runner, admission, prepareTools });

  async function waitFor(replies: Message[]): Promise<Message[]> {
    await runner.waitFor(replies.map((reply) => reply.id));
    return store.messagesByIds(replies.map((reply) => reply.id));
  }

  async function regenerate(actor: Actor, messageId: string, modelId?: string | null, secret?: string | null): Promise<Message> {
    const original = await store.ownedMessage(actor, messageId);
    if (original.role !== 'ASSISTANT' || !original.parentId) throw badInput('input.regenerateRole');
    const model = resolveModels(settings, [modelId ?? original.modelId ?? catalog.defaultModelId], actor)[0]!;
    const conversation = await store.ownedConversation(actor, original.conversationId);
    const access = await deps.access.forPrivacy(actor, privacyOf([model], conversation), secret);
    await admission.countRequest(actor);
    const { readable: turns } = await context.storedTurns(conversation.id, access);
    const question = turns.find((turn) => turn.id === original.parentId);
    if (!question) throw access.privacy === 'PUBLIC' ? badInput('input.regenerateRole') : badInput('encryption.secretRequired');
    // A reply that went on after tool results answers those, not a question: it cannot be asked again on its own.
    if (question.role !== 'USER') throw badInput('tools.regenerateContinuation');
    const questionFiles = await deps.prisma.uploadedFile.findMany({ where: { attachments: { some: { messageId: question.id } } } });
    requireVision([model], questionFiles);
    const messages = buildChatMessages({
      systemPrompt: await deps.templates.systemPromptFor(actor, {}, await context.readableConversation(conversation, access)),
      memories: await deps.memories.relevantTo(actor, question.content),
      history: await context.withFiles(branchEndingAt(turns, question.parentId), [model]),
      userContent: question.content,
      files: await context.contextFiles(questionFiles),
    });
    const planned = planWithFallbacks(settings, actor, model, messages, {});
    const reply = await store.insertReply(
      actor,
      { conversationId: conversation.id, modelId: model.id, parentId: question.id, reservation: planned.reservation },
      admission.freeAllowanceOf(actor),
      () => admission.freeLimitExceeded(actor),
    );
    runner.launch(actor, { conversationId: conversation.id, messageId: reply.id, questionId: question.id }, planned, access);
    return reply;
  }

  return {
    send: sender.send,

    /** Sends and resolves once every reply has finished. */
    async sendAndWait(actor: Actor, input: SendMessageRequest): Promise<SendResult> {
      const result = await sender.send(actor, input);
      return { ...result, replies: await waitFor(result.replies) };
    },

    /** Sends (or finds the turn of the same clientMessageId), then streams every reply's events from the first. */
    async streamSend(actor: Actor, input: SendMessageRequest): Promise<AsyncIterable<MessageEvent>> {
      const result = await sender.send(actor, input);
      // Merging costs a few promises per event; one reply needs none.
      if (result.replies.length === 1) return stream.follow(result.replies[0]!.id, 0);
      return Repeater.merge(result.replies.map((reply) => stream.follow(reply.id, 0)));
    },

    async followMessage(actor: Actor, messageId: string, after: number): Promise<AsyncIterable<MessageEvent>> {
      if (after < 0) throw badInput('input.afterSeq');
      await store.requireOwnedMessage(actor, messageId);
      return stream.follow(messageId, after);
    },

    async followConversation(actor: Actor, conversationId: string): Promise<AsyncIterable<MessageEvent>> {
      await store.ownedConversation(actor, conversationId);
      return deps.pubsub.subscribe('conversation', conversationId);
    },

    async stop(actor: Actor, target: { messageId?: string | null; conversationId?: string | null }): Promise<Message[]> {
      if (Boolean(target.messageId) === Boolean(target.conversationId)) throw badInput('input.stopTarget');
      if (target.messageId) await store.ownedMessage(actor, target.messageId);
      if (target.conversationId) await store.ownedConversation(actor, target.conversationId);
      const targets = await store.stopTargets(target);
      await Promise.all(
        targets.filter((message) => isUnfinished(message.status) || runner.isRunning(message.id)).map((message) => runner.stopReply(message.id)),
      );
      return store.messagesByIds(targets.map((message) => message.id));
    },

    regenerate,

    submitToolResults: toolResults.submit,

    /** Answers a waiting reply's calls and resolves once the reply that goes on has finished. */
    async submitToolResultsAndWait(actor: Actor, messageId: string, results: Parameters<typeof toolResults.submit>[2]): Promise<Message> {
      return (await waitFor([await toolResults.submit(actor, messageId, results)]))[0]!;
    },

    /** Every server tool, with whether this caller may use it. */
    serverTools: (actor: Actor) => serverTools.list({ actor }),

    /** Stops every reply of a conversation, wherever it runs, before it is deleted. */
    stopConversation: runner.stopConversation,

    heartbeat: runner.heartbeat,
    runningCount: runner.runningCount,
    followerCount: stream.followerCount,
    /** Text of a reply still streaming in this process, fresher than its last flush. */
    liveContent: runner.liveText,
    shutdown: runner.shutdown,

    /** With one instance, at start: replies left unfinished by a run that died are failed, refunded and recorded. */
    failOrphans: runner.failLeftovers,
  };
}

export type ChatService = ReturnType<typeof createChatService>;
