import { Repeater } from 'graphql-yoga';
import type { Message, PrismaClient } from '../../generated/prisma/client.js';
import type { Role } from '../../generated/prisma/enums.js';
import type { Config } from '../../lib/config.js';
import { badInput, forbidden, notFound, UserFacingError } from '../../lib/errors.js';
import { countTokens } from '../../lib/tokens.js';
import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import type { Logger } from '../../lib/logger.js';
import type { GatewayPubSub } from '../../lib/pubsub.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { CreditsService, Transaction } from '../credits/credits.service.js';
import type { Actor } from '../identity/actor.js';
import { maxModelsPerMessage } from '../identity/tiers.js';
import type { LimitsService } from '../limits/limits.service.js';
import type { UploadedFile } from '../../generated/prisma/client.js';
import { isImage, type FilesService } from '../files/files.service.js';
import type { MemoriesService } from '../memories/memories.service.js';
import type { SearchService } from '../search/search.service.js';
import { webContext, type WebSearch } from '../search/web-search.js';
import type { ConversationAccess, ConversationAccessService } from '../encryption/conversation-access.js';
import type { EncryptionService } from '../encryption/encryption.service.js';
import type { Privacy } from '../../generated/prisma/enums.js';
import { hasFeature } from '../identity/tiers.js';
import type { TemplatesService } from '../templates/templates.service.js';
import type { UsageService } from '../usage/usage.service.js';
import { branchEndingAt, buildChatMessages, fitToWindow, type ContextFile, type StoredTurn } from './context-builder.js';
import { newTurnIds, writeTurn, type TurnIds } from './turn-writer.js';
import type { EventLog } from './event-log.js';
import { messageTokens, promptTokens, startGeneration, type RunningGeneration } from './generation.js';
import type { MessageEvent } from './message-events.js';

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
  parentMessageId?: string | null;
  /** Ask reasoning models to think harder (true) or less (false). */
  enableThinking?: boolean | null;
  /** Search the web for the message and put the results in the context (the web_search feature). */
  webSearch?: boolean | null;
  /** The caller's encryption secret, for models that encrypt conversations at rest. */
  secret?: string | null;
  /** Models to fall back on, in order, when a requested one fails before its first token. */
  fallbackModels?: string[] | null;
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
  search: SearchService;
  files: FilesService;
  webSearch: WebSearch;
  encryption: EncryptionService;
  access: ConversationAccessService;
}

interface PlannedReply {
  model: CatalogModel;
  /** The context this model receives, trimmed to its window. */
  messages: ReturnType<typeof buildChatMessages>;
  /** Output tokens the reply may produce, sent to the provider as its limit. */
  outputBudget: number;
  /** Credits reserved up front: the worst case of this context and budget. */
  reservation: number;
  reasoningEffort?: 'low' | 'high';
  /** Models to try, in order, when this one fails before its first token. */
  fallbacks: PlannedReply[];
}
const unfinished = ['PENDING', 'STREAMING'] as const;
/** How long a follower waits for a live event before it looks at the event log itself. */
const LOG_POLL_MS = 1_000;
/** How long stopGeneration waits for another instance to stop a reply before treating it as orphaned. */
const STOP_TIMEOUT_MS = 5_000;

const turnFields = {
  id: true,
  role: true,
  content: true,
  status: true,
  parentId: true,
  modelId: true,
  position: true,
  _count: { select: { attachments: true } },
} as const;

function titleFrom(content: string): string {
  const firstLine = content.trim().split('\n')[0] ?? '';
  return firstLine.length > 80 ? `${firstLine.slice(0, 79)}…` : firstLine;
}

export function createChatService(deps: ChatDeps) {
  const { prisma, catalog, registry, config } = deps;
  const running = new Map<string, RunningGeneration>();
  let activeFollowers = 0;
  /**
   * Turns whose statement is on its way to the database. An early provider call only pays while the
   * database is idle: behind a queue of other turns, its tokens would arrive first and hold up that queue.
   */
  let turnsBeingStored = 0;
  /** Work a turn leaves behind (search indexing); shutdown waits for it. */
  const background = new Set<Promise<unknown>>();
  const inBackground = (task: Promise<unknown>) => {
    background.add(task);
    void task.finally(() => background.delete(task));
  };

  // Stop requests reach every instance; the one running the reply stops it.
  const stopRequests = deps.pubsub.subscribe('stop', 'all');
  void (async () => {
    for await (const { messageId } of stopRequests) running.get(messageId)?.stop('user');
  })();

  /** Waits for a reply running elsewhere to end after a stop request; false if nobody ended it. */
  async function endedElsewhere(messageId: string, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const row = await prisma.message.findUnique({ where: { id: messageId }, select: { status: true } });
      if (!row || !unfinished.includes(row.status as (typeof unfinished)[number])) return true;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return false;
  }

  /**
   * Ends a reply no instance runs any more. Its text is rebuilt from the event
   * log when that holds more than the last flush, so what followers received
   * and what is stored agree. The conditional update lets only one instance win.
   */
  async function endOrphan(messageId: string, status: 'STOPPED' | 'FAILED', staleBefore?: Date) {
    const row = await prisma.message.findUnique({
      where: { id: messageId },
      select: {
        conversationId: true,
        content: true,
        lastSeq: true,
        status: true,
        modelId: true,
        createdAt: true,
        conversation: { select: { privacy: true, ownerId: true } },
      },
    });
    if (!row || !unfinished.includes(row.status as (typeof unfinished)[number])) return false;
    const logged = (await deps.eventLog.read(messageId, 0)) ?? [];
    // Encrypted text cannot be rebuilt here (no key): the last sealed flush stands.
    const complete = logged[0]?.seq === 1 && row.conversation.privacy === 'PUBLIC';
    const content = complete ? logged.map((event) => (event.type === 'TokenDelta' ? event.delta : '')).join('') : row.content;
    const seq = Math.max(row.lastSeq, logged.at(-1)?.seq ?? 0) + 1;
    const failure = status === 'FAILED' ? { errorCode: 'INTERRUPTED', errorMessage: 'The server running this reply stopped before it finished.' } : {};
    const { count } = await prisma.message.updateMany({
      where: { id: messageId, status: { in: [...unfinished] }, ...(staleBefore ? staleWhere(staleBefore) : {}) },
      data: { status, content, lastSeq: seq, completedAt: new Date(), ...failure },
    });
    if (count === 0) return false;
    await deps.eventLog.append({ type: 'MessageFinished', messageId, conversationId: row.conversationId, seq, status });
    await settleOrphan({ messageId, modelId: row.modelId, content, ownerId: row.conversation.ownerId, startedAt: row.createdAt, status }).catch(
      (error: unknown) => deps.logger.error({ err: error, messageId }, 'settling an orphaned reply failed'),
    );
    return true;
  }

  /**
   * Charges an orphan its estimated input plus the output it produced, refunds
   * the rest of its reservation, and records the call as usage. The input is
   * known only as the credits reserved for it, so its token count is derived
   * from the model's input price.
   */
  async function settleOrphan(orphan: {
    messageId: string;
    modelId: string | null;
    content: string;
    ownerId: string;
    startedAt: Date;
    status: 'STOPPED' | 'FAILED';
  }) {
    const { messageId } = orphan;
    const reservation = await prisma.creditLedgerEntry.findFirst({ where: { reference: messageId, kind: 'reserve' } });
    const model = orphan.modelId ? catalog.find(orphan.modelId) : undefined;
    if (!reservation || !model) return;
    const reserved = -reservation.delta;
    const inputCredits = Math.max(0, reserved - deps.credits.creditsFor(catalog.costOf(model, 0, outputBudgetOf(model))));
    const outputTokens = countTokens(orphan.content, model.id);
    const used = inputCredits + deps.credits.creditsFor(catalog.costOf(model, 0, outputTokens));
    await deps.credits.settle(reservation.userId, reserved, used, messageId);
    const inputTokens = model.inputPrice ? Math.round(inputCredits / model.inputPrice) : 0;
    await deps.usage.record({
      actor: { userId: orphan.ownerId, billedUserId: reservation.userId },
      modelId: model.id,
      action: 'CHAT',
      inputTokens,
      outputTokens,
      cost: catalog.costOf(model, inputTokens, outputTokens),
      success: orphan.status !== 'FAILED',
      latencyMs: Date.now() - orphan.startedAt.getTime(),
      messageId,
    });
  }

  const staleWhere = (before: Date) => ({ OR: [{ heartbeatAt: { lt: before } }, { heartbeatAt: null, createdAt: { lt: before } }] });

  /**
   * Runs on every instance: vouches for the replies this instance runs, then
   * fails replies whose instance stopped vouching for them (it died).
   */
  async function heartbeat(orphanTimeoutMs: number) {
    const mine = [...running.keys()];
    if (mine.length > 0) await prisma.message.updateMany({ where: { id: { in: mine } }, data: { heartbeatAt: new Date() } });
    const staleBefore = new Date(Date.now() - orphanTimeoutMs);
    const stale = await prisma.message.findMany({
      where: { status: { in: [...unfinished] }, id: { notIn: mine }, ...staleWhere(staleBefore) },
      select: { id: true },
      take: 100,
    });
    let failed = 0;
    for (const { id } of stale) if (await endOrphan(id, 'FAILED', staleBefore)) failed += 1;
    if (failed > 0) deps.logger.warn({ failed }, 'failed replies whose instance stopped running them');
  }

  function outputBudgetOf(model: CatalogModel) {
    return Math.min(model.maxOutputTokens || config.maxOutputTokensPerReply, config.maxOutputTokensPerReply);
  }

  function validateContent(content: string) {
    const length = content.trim().length === 0 ? 0 : content.length;
    if (length < 1 || length > config.maxMessageLength) {
      throw badInput('input.contentLength', { max: config.maxMessageLength, length });
    }
  }

  function resolveModels(requested: string[] | null | undefined, actor: Actor): CatalogModel[] {
    const ids = requested?.length ? requested : [catalog.defaultModelId];
    const maxModels = maxModelsPerMessage(actor.tier);
    if (ids.length > maxModels) throw badInput('input.tooManyModels', { max: maxModels, count: ids.length });
    const seen = new Set<string>();
    return ids.map((id) => {
      if (seen.has(id)) throw badInput('input.duplicateModel', { model: id });
      seen.add(id);
      return catalog.requireChatModel(id, actor.tier);
    });
  }

  async function ownedConversation(actor: Actor, conversationId: string) {
    const conversation = await prisma.conversation.findFirst({ where: { id: conversationId, ownerId: actor.userId } });
    if (!conversation) throw notFound('Conversation', conversationId);
    return conversation;
  }

  async function ownedMessage(actor: Actor, messageId: string) {
    const message = await prisma.message.findFirst({ where: { id: messageId, conversation: { ownerId: actor.userId } } });
    if (!message) throw notFound('Message', messageId);
    return message;
  }

  /** Whether the message is in one of the caller's conversations: every subscriber asks, so it is one raw statement. */
  async function requireOwnedMessage(actor: Actor, messageId: string) {
    const [owned] = await prisma.$queryRaw<unknown[]>`
      SELECT 1 FROM "Message" m JOIN "Conversation" c ON c.id = m."conversationId" WHERE m.id = ${messageId} AND c."ownerId" = ${actor.userId}`;
    if (!owned) throw notFound('Message', messageId);
  }

  /** Which message a new user turn follows when the client did not say. */
  function latestLeaf(turns: Array<StoredTurn & { modelId: string | null }>, preferredModel: string): string | null {
    const lastUser = [...turns].reverse().find((turn) => turn.role === 'USER');
    if (!lastUser) return null;
    const replies = turns.filter((turn) => turn.parentId === lastUser.id && turn.role === 'ASSISTANT' && turn.content);
    const chosen =
      replies.find((reply) => reply.modelId === preferredModel && reply.status === 'COMPLETE') ??
      replies.find((reply) => reply.status === 'COMPLETE') ??
      replies.at(-1);
    return chosen?.id ?? lastUser.id;
  }

  /**
   * Fits the context to the model (oldest history goes first) and prices its
   * worst case, so the reservation covers whatever the provider sends back.
   */
  function plan(model: CatalogModel, context: ReturnType<typeof buildChatMessages>, enableThinking?: boolean | null): PlannedReply {
    const outputBudget = outputBudgetOf(model);
    const available = model.contextWindow - outputBudget;
    const fitted = fitToWindow(context, available, (message) => messageTokens(message, model.id));
    if (!('messages' in fitted)) {
      throw new UserFacingError(
        'CONTEXT_TOO_LONG',
        'context.tooLong',
        { model: model.id, needed: fitted.tokens, available },
        { model: model.id, needed: fitted.tokens, available },
      );
    }
    // Our tokenizer approximates other vendors' counts, hence the margin on the input side.
    const inputEstimate = Math.ceil(promptTokens(fitted.messages, model.id) * 1.1) + 16;
    return {
      model,
      messages: fitted.messages,
      outputBudget,
      reservation: deps.credits.creditsFor(catalog.costOf(model, inputEstimate, outputBudget)),
      reasoningEffort: enableThinking === true ? 'high' : enableThinking === false ? 'low' : undefined,
      fallbacks: [],
    };
  }

  /** All models of a message share one privacy, and it must be the conversation's. */
  function privacyOf(models: CatalogModel[], existing: { privacy: Privacy } | null): Privacy {
    const privacies = [...new Set(models.map((model) => model.privacy))];
    if (privacies.length > 1) throw badInput('encryption.mixedPrivacy');
    const privacy = privacies[0]!;
    if (existing && existing.privacy !== privacy) throw badInput('encryption.privacyMismatch', { conversation: existing.privacy, model: privacy });
    return privacy;
  }

  /** Stored turns as the model should read them; turns these keys cannot open are left out. */
  async function readableTurns<T extends StoredTurn>(turns: T[], access: ConversationAccess): Promise<T[]> {
    if (access.privacy === 'PUBLIC') return turns;
    const opened = await Promise.all(turns.map(async (turn) => ({ turn, content: await deps.encryption.open(turn.content, access.keys) })));
    return opened.flatMap(({ turn, content }) => (content === null ? [] : [{ ...turn, content }]));
  }

  async function readableConversation<T extends { systemPrompt: string | null }>(conversation: T | null, access: ConversationAccess): Promise<T | null> {
    if (!conversation?.systemPrompt || access.privacy === 'PUBLIC') return conversation;
    return { ...conversation, systemPrompt: await deps.encryption.open(conversation.systemPrompt, access.keys) };
  }

  function requireVision(models: CatalogModel[], files: UploadedFile[]) {
    if (!files.some(isImage)) return;
    const blind = models.find((model) => !model.modalities.includes('image'));
    if (blind) throw badInput('files.needsVision', { model: blind.id });
  }

  async function contextFiles(files: UploadedFile[]): Promise<ContextFile[]> {
    return Promise.all(
      files.map(async (file) => ({ filename: file.filename, text: file.text, imageUrl: isImage(file) ? await deps.files.dataUrl(file) : undefined })),
    );
  }

  /**
   * Gives the user turns of a branch their attachments, so a follow-up still
   * sees the files asked about earlier. Images go as pixels only when every
   * model answering can see; otherwise the model is told one was there.
   */
  async function withFiles(branch: StoredTurn[], models: CatalogModel[]): Promise<StoredTurn[]> {
    const questionIds = branch.filter((turn) => turn.role === 'USER' && turn._count?.attachments).map((turn) => turn.id);
    if (questionIds.length === 0) return branch;
    const attachments = await prisma.messageAttachment.findMany({
      where: { messageId: { in: questionIds } },
      include: { file: true },
      orderBy: { file: { createdAt: 'asc' } },
    });
    if (attachments.length === 0) return branch;
    const vision = models.every((model) => model.modalities.includes('image'));
    const filesOf = async (messageId: string): Promise<ContextFile[]> =>
      Promise.all(
        attachments
          .filter((attachment) => attachment.messageId === messageId)
          .map(async ({ file }) => {
            if (!isImage(file)) return { filename: file.filename, text: file.text };
            return vision
              ? { filename: file.filename, text: null, imageUrl: await deps.files.dataUrl(file) }
              : { filename: file.filename, text: '(an image this model cannot see)' };
          }),
      );
    return Promise.all(branch.map(async (turn) => (turn.role === 'USER' ? { ...turn, files: await filesOf(turn.id) } : turn)));
  }

  /** Counts the request against the caller's rate limits; the allowance and credits are taken with the rows. */
  async function admit(actor: Actor) {
    await deps.limits.consumeChatRequest({ userId: actor.billedUserId, tier: actor.tier, isGuest: actor.isGuest, freeMessagesUsed: 0 });
  }

  const takesFreeAllowance = (actor: Actor) => actor.tier === 'FREE' && config.freeMessageThreshold > 0;

  /** Whether the turn's debit will most likely pass, judged by the balance read when the operation began. */
  function looksAffordable(actor: Actor, plans: PlannedReply[]): boolean {
    const seen = actor.billingSeen;
    if (!seen) return false;
    if (takesFreeAllowance(actor) && seen.freeMessagesUsed >= config.freeMessageThreshold) return false;
    return seen.creditBalance >= plans.reduce((sum, planned) => sum + planned.reservation, 0);
  }

  function freeLimitExceeded(actor: Actor) {
    const limit = config.freeMessageThreshold;
    return new UserFacingError(
      'FREE_LIMIT_EXCEEDED',
      actor.isGuest ? 'limits.freeGuest' : 'limits.freeUser',
      { limit },
      { requiresSignup: actor.isGuest, limit },
    );
  }

  /** Why a turn's debit was refused: the free allowance is reported before credits, as it is checked first. */
  async function refusal(actor: Actor, required: number) {
    const user = await prisma.user.findUnique({ where: { id: actor.billedUserId }, select: { creditBalance: true, freeMessagesUsed: true } });
    if (takesFreeAllowance(actor) && (user?.freeMessagesUsed ?? 0) >= config.freeMessageThreshold) return freeLimitExceeded(actor);
    const balance = user?.creditBalance ?? 0;
    return new UserFacingError('INSUFFICIENT_CREDITS', 'credits.insufficient', { required, balance }, { required, balance });
  }

  async function takeAllowanceAndCredits(transaction: Transaction, actor: Actor, replies: Array<{ id: string; plan: PlannedReply }>) {
    if (takesFreeAllowance(actor)) {
      const { count } = await transaction.user.updateMany({
        where: { id: actor.billedUserId, freeMessagesUsed: { lt: config.freeMessageThreshold } },
        data: { freeMessagesUsed: { increment: 1 } },
      });
      if (count === 0) throw freeLimitExceeded(actor);
    }
    for (const reply of replies) await deps.credits.reserve(transaction, actor.billedUserId, reply.plan.reservation, reply.id);
  }

  /**
   * Plans a model and its fallbacks (the request's, then the configured ones):
   * a fallback must be allowed, of the same privacy and fit the context, and
   * the reservation covers the most expensive of them.
   */
  function planWithFallbacks(
    actor: Actor,
    model: CatalogModel,
    context: ReturnType<typeof buildChatMessages>,
    input: Pick<SendMessageRequest, 'enableThinking' | 'fallbackModels'>,
  ): PlannedReply {
    const primary = plan(model, context, input.enableThinking);
    const requested = (input.fallbackModels ?? []).map((id) => catalog.requireChatModel(id, actor.tier));
    const configured = (config.fallbackModels[model.id] ?? []).flatMap((id) => {
      try {
        return [catalog.requireChatModel(id, actor.tier)];
      } catch {
        return [];
      }
    });
    const seen = new Set([model.id]);
    for (const fallback of [...requested, ...configured]) {
      if (seen.has(fallback.id) || fallback.privacy !== model.privacy) continue;
      seen.add(fallback.id);
      try {
        primary.fallbacks.push(plan(fallback, context, input.enableThinking));
      } catch {
        // A fallback whose window cannot hold this context is simply not tried.
      }
    }
    primary.reservation = Math.max(primary.reservation, ...primary.fallbacks.map((fallback) => fallback.reservation));
    return primary;
  }

  function launch(
    actor: Actor,
    conversationId: string,
    messageId: string,
    planned: PlannedReply,
    access: ConversationAccess,
    questionId?: string,
    admitted?: Promise<boolean>,
  ) {
    const candidates = [planned, ...planned.fallbacks].flatMap((candidate) => {
      const client = registry.clientFor(candidate.model.provider);
      return client ? [{ model: candidate.model, client, messages: candidate.messages, maxOutputTokens: candidate.outputBudget }] : [];
    });
    if (candidates[0]?.model !== planned.model) throw new UserFacingError('PROVIDER_UNAVAILABLE', 'provider.unavailable', { model: planned.model.id });
    const generation = startGeneration(
      { prisma, eventLog: deps.eventLog, logger: deps.logger, flushIntervalMs: config.flushIntervalMs, costOf: catalog.costOf, policy: config.upstream },
      {
        messageId,
        conversationId,
        candidates,
        reasoningEffort: planned.reasoningEffort,
        sealContent: access.privacy === 'PUBLIC' ? undefined : access.seal,
        admitted,
        onFinish: async (summary) => {
          await deps.credits.settle(actor.billedUserId, planned.reservation, deps.credits.creditsFor(summary.cost), messageId);
          await deps.usage.record({
            actor,
            modelId: summary.model.id,
            action: 'CHAT',
            inputTokens: summary.inputTokens,
            outputTokens: summary.outputTokens,
            cost: summary.cost,
            success: summary.status !== 'FAILED',
            latencyMs: summary.latencyMs,
            timeToFirstTokenMs: summary.timeToFirstTokenMs,
            messageId,
          });
          // Encrypted conversations stay out of the search index.
          if (summary.status === 'COMPLETE' && questionId && access.privacy === 'PUBLIC') inBackground(deps.search.index(actor, [questionId, messageId]));
        },
      },
    );
    running.set(messageId, generation);
    void generation.done.finally(() => running.delete(messageId));
    return generation;
  }

  /** Referenced files must be the caller's; inline ones are uploaded now (and removed again if the turn fails). */
  async function gatherFiles(actor: Actor, input: SendMessageRequest, conversationId: string | null) {
    const count = (input.fileIds?.length ?? 0) + (input.attachments?.length ?? 0);
    if (count > config.maxFilesPerRequest) {
      throw new UserFacingError('PAYLOAD_TOO_LARGE', 'files.tooMany', { limit: config.maxFilesPerRequest }, { limit: config.maxFilesPerRequest });
    }
    const referenced = await deps.files.forMessage(actor, input.fileIds ?? []);
    const inline: UploadedFile[] = [];
    try {
      for (const file of input.attachments ?? []) inline.push(await deps.files.upload(actor, file, conversationId));
    } catch (error) {
      await deps.files.remove(
        actor,
        inline.map((file) => file.id),
      );
      throw error;
    }
    return { files: [...referenced, ...inline], inline };
  }

  async function send(actor: Actor, input: SendMessageRequest): Promise<SendResult> {
    validateContent(input.content);
    const models = resolveModels(input.models, actor);
    await admit(actor);
    const requestedParent = input.parentMessageId ? await ownedMessage(actor, input.parentMessageId) : null;
    if (requestedParent && input.conversationId && requestedParent.conversationId !== input.conversationId) {
      throw badInput('input.parentElsewhere', { id: input.parentMessageId ?? '' });
    }
    const conversationId = input.conversationId ?? requestedParent?.conversationId;
    const existing = conversationId ? await ownedConversation(actor, conversationId) : null;
    const access = await deps.access.forPrivacy(actor, privacyOf(models, existing), input.secret);
    if (access.privacy !== 'PUBLIC' && (input.fileIds?.length || input.attachments?.length)) throw badInput('encryption.noFiles');
    if (input.webSearch && !hasFeature(actor.tier, 'web_search')) throw forbidden('auth.feature', { feature: 'web_search' });
    const web = input.webSearch ? webContext(await deps.webSearch.search(input.content)) : undefined;
    const { files, inline } = await gatherFiles(actor, input, existing?.id ?? null);
    try {
      await deps.files.checkRoomFor(existing?.id ?? null, files);
      requireVision(models, files);
      const turns = existing ? await prisma.message.findMany({ where: { conversationId: existing.id }, orderBy: { position: 'asc' }, select: turnFields }) : [];
      const readable = await readableTurns(turns, access);
      // Editing a user message starts a sibling of it; answering a reply continues after it.
      const parentId = requestedParent ? (requestedParent.role === 'USER' ? requestedParent.parentId : requestedParent.id) : latestLeaf(turns, models[0]!.id);
      const context = buildChatMessages({
        systemPrompt: await deps.templates.systemPromptFor(actor, input, await readableConversation(existing, access)),
        memories: await deps.memories.relevantTo(actor, input.content),
        webContext: web,
        history: await withFiles(branchEndingAt(readable, parentId), models),
        clientHistory: input.history ?? undefined,
        userContent: input.content,
        files: await contextFiles(files),
      });
      const plans = models.map((model) => planWithFallbacks(actor, model, context, input));
      const ids = newTurnIds(existing?.id, plans.length);
      // When the balance read for this operation covers the turn, the providers are called while it is
      // stored: the debit is still the check, and the replies of a refused turn are cancelled unseen.
      let admit: ((stored: boolean) => void) | undefined;
      if (turnsBeingStored === 0 && looksAffordable(actor, plans)) {
        const admitted = new Promise<boolean>((resolve) => (admit = resolve));
        try {
          for (const [index, planned] of plans.entries()) launch(actor, ids.conversationId, ids.replyIds[index]!, planned, access, ids.questionId, admitted);
        } catch (error) {
          admit!(false);
          throw error;
        }
      }
      let stored: SendResult;
      turnsBeingStored += 1;
      try {
        stored = await storeTurn(actor, input, existing, parentId, files, plans, access, ids);
      } catch (error) {
        admit?.(false);
        throw error;
      } finally {
        turnsBeingStored -= 1;
      }
      if (admit) admit(true);
      else for (const [index, reply] of stored.replies.entries()) launch(actor, stored.conversationId, reply.id, plans[index]!, access, stored.userMessage.id);
      return stored;
    } catch (error) {
      if (inline.length > 0)
        await deps.files.remove(
          actor,
          inline.map((file) => file.id),
        );
      throw error;
    }
  }

  /** One statement: a refused allowance or credit check leaves no conversation, message or attachment behind. */
  async function storeTurn(
    actor: Actor,
    input: SendMessageRequest,
    existing: { id: string } | null,
    parentId: string | null,
    files: UploadedFile[],
    plans: PlannedReply[],
    access: ConversationAccess,
    ids: TurnIds,
  ): Promise<SendResult> {
    // A template named on a message becomes the conversation's template for later turns.
    const template = input.templateName ? { name: input.templateName, variables: input.templateVariables ?? {} } : undefined;
    const stored = await writeTurn(prisma, {
      billedUserId: actor.billedUserId,
      freeMessageLimit: takesFreeAllowance(actor) ? config.freeMessageThreshold : undefined,
      conversation: existing
        ? { id: existing.id, template }
        : {
            ownerId: actor.userId,
            title: await access.seal(titleFrom(input.content)),
            systemPrompt: input.systemPrompt ? await access.seal(input.systemPrompt) : null,
            privacy: access.privacy,
            template,
          },
      question: { content: await access.seal(input.content), parentId },
      fileIds: files.map((file) => file.id),
      replies: plans.map((planned) => ({ modelId: planned.model.id, reservation: planned.reservation })),
      ids,
    });
    if (!stored)
      throw await refusal(
        actor,
        plans.reduce((sum, planned) => sum + planned.reservation, 0),
      );
    return stored;
  }

  async function waitFor(replies: Message[]): Promise<Message[]> {
    await Promise.all(replies.map((reply) => running.get(reply.id)?.done));
    return prisma.message.findMany({ where: { id: { in: replies.map((reply) => reply.id) } }, orderBy: { position: 'asc' } });
  }

  /** The stored row's last word, for a reply whose event log is gone (expired, or its instance died). */
  async function finishedFromRow(messageId: string, after: number): Promise<MessageEvent | 'unfinished' | 'missing' | 'nothing'> {
    const stored = await prisma.message.findUnique({ where: { id: messageId }, select: { status: true, lastSeq: true, conversationId: true } });
    if (!stored) return 'missing';
    if (unfinished.includes(stored.status as (typeof unfinished)[number])) return 'unfinished';
    if (stored.lastSeq <= after) return 'nothing';
    return { type: 'MessageFinished', messageId, conversationId: stored.conversationId, seq: stored.lastSeq, status: stored.status };
  }

  /**
   * Replays a reply's events after `after`, then follows it live. Live events
   * come through pubsub; whenever one arrives out of order, or nothing arrives
   * for a while, the event log fills the gap (with several instances an event
   * can be published before this subscription reaches Redis).
   */
  async function* follow(messageId: string, after: number): AsyncGenerator<MessageEvent> {
    const live = deps.pubsub.subscribe('message', messageId);
    activeFollowers += 1;
    let lastSeq = after;
    const fresh = (events: MessageEvent[]) => events.filter((event) => event.seq > lastSeq);
    try {
      let batch = (await deps.eventLog.read(messageId, 0)) ?? [];
      for (;;) {
        // A reply this instance is running is unfinished by definition: no need to ask the database.
        if (batch.length === 0 && !running.has(messageId)) {
          const fromRow = await finishedFromRow(messageId, lastSeq);
          if (fromRow === 'missing' || fromRow === 'nothing') return;
          if (fromRow !== 'unfinished' && (await deps.eventLog.read(messageId, lastSeq)) === null) batch = [fromRow];
        }
        // Asked for events after the end: there is nothing more to follow.
        if (batch.some((event) => event.type === 'MessageFinished' && event.seq <= lastSeq)) return;
        for (const event of fresh(batch)) {
          yield event;
          lastSeq = event.seq;
          if (event.type === 'MessageFinished') return;
        }
        // Events published meanwhile wait in the subscription's buffer.
        const next = await live.nextWithin(LOG_POLL_MS);
        if (next === undefined) {
          batch = (await deps.eventLog.read(messageId, lastSeq)) ?? [];
          continue;
        }
        if (next.done) return;
        batch = next.value.seq === lastSeq + 1 ? [next.value] : ((await deps.eventLog.read(messageId, lastSeq)) ?? [next.value]);
        // A live event arrived: the row check above is only for an empty, silent log.
        if (batch.length === 0) batch = [next.value];
      }
    } finally {
      activeFollowers -= 1;
      await live.return();
    }
  }

  return {
    send,

    /** Sends and resolves once every reply has finished. */
    async sendAndWait(actor: Actor, input: SendMessageRequest): Promise<SendResult> {
      const result = await send(actor, input);
      return { ...result, replies: await waitFor(result.replies) };
    },

    /** Sends, then streams the events of every reply until all have finished. */
    async streamSend(actor: Actor, input: SendMessageRequest): Promise<AsyncIterable<MessageEvent>> {
      const result = await send(actor, input);
      // Merging costs a few promises per event; one reply needs none.
      if (result.replies.length === 1) return follow(result.replies[0]!.id, 0);
      return Repeater.merge(result.replies.map((reply) => follow(reply.id, 0)));
    },

    async followMessage(actor: Actor, messageId: string, after: number): Promise<AsyncIterable<MessageEvent>> {
      if (after < 0) throw badInput('input.afterSeq');
      await requireOwnedMessage(actor, messageId);
      return follow(messageId, after);
    },

    async followConversation(actor: Actor, conversationId: string): Promise<AsyncIterable<MessageEvent>> {
      await ownedConversation(actor, conversationId);
      return deps.pubsub.subscribe('conversation', conversationId);
    },

    async stop(actor: Actor, target: { messageId?: string | null; conversationId?: string | null }): Promise<Message[]> {
      if (Boolean(target.messageId) === Boolean(target.conversationId)) throw badInput('input.stopTarget');
      if (target.messageId) await ownedMessage(actor, target.messageId);
      if (target.conversationId) await ownedConversation(actor, target.conversationId);
      const where = target.messageId
        ? { id: target.messageId }
        : { conversationId: target.conversationId!, role: 'ASSISTANT' as const, status: { in: [...unfinished] } };
      const targets = await prisma.message.findMany({ where, select: { id: true, status: true } });
      await Promise.all(
        targets
          .filter((message) => unfinished.includes(message.status as (typeof unfinished)[number]))
          .map(async (message) => {
            const generation = running.get(message.id);
            if (generation) {
              generation.stop('user');
              await generation.done;
              return;
            }
            deps.pubsub.publish('stop', 'all', { messageId: message.id });
            if (!(await endedElsewhere(message.id, STOP_TIMEOUT_MS))) await endOrphan(message.id, 'STOPPED');
          }),
      );
      return prisma.message.findMany({ where: { id: { in: targets.map((message) => message.id) } }, orderBy: { position: 'asc' } });
    },

    async regenerate(actor: Actor, messageId: string, modelId?: string | null, secret?: string | null): Promise<Message> {
      const original = await ownedMessage(actor, messageId);
      if (original.role !== 'ASSISTANT' || !original.parentId) throw badInput('input.regenerateRole');
      const model = resolveModels([modelId ?? original.modelId ?? catalog.defaultModelId], actor)[0]!;
      const conversation = await ownedConversation(actor, original.conversationId);
      const access = await deps.access.forPrivacy(actor, privacyOf([model], conversation), secret);
      await admit(actor);
      const turns = await readableTurns(
        await prisma.message.findMany({ where: { conversationId: conversation.id }, orderBy: { position: 'asc' }, select: turnFields }),
        access,
      );
      const question = turns.find((turn) => turn.id === original.parentId);
      if (!question) throw access.privacy === 'PUBLIC' ? badInput('input.regenerateRole') : badInput('encryption.secretRequired');
      const questionFiles = await prisma.uploadedFile.findMany({ where: { attachments: { some: { messageId: question.id } } } });
      requireVision([model], questionFiles);
      const context = buildChatMessages({
        systemPrompt: await deps.templates.systemPromptFor(actor, {}, await readableConversation(conversation, access)),
        memories: await deps.memories.relevantTo(actor, question.content),
        history: await withFiles(branchEndingAt(turns, question.parentId), [model]),
        userContent: question.content,
        files: await contextFiles(questionFiles),
      });
      const planned = planWithFallbacks(actor, model, context, {});
      const reply = await prisma.$transaction(async (transaction) => {
        const created = await transaction.message.create({
          data: { conversationId: conversation.id, role: 'ASSISTANT', status: 'STREAMING', modelId: model.id, parentId: question.id },
        });
        await takeAllowanceAndCredits(transaction, actor, [{ id: created.id, plan: planned }]);
        await transaction.conversation.update({ where: { id: conversation.id }, data: { updatedAt: new Date() } });
        return created;
      });
      launch(actor, conversation.id, reply.id, planned, access, question.id);
      return reply;
    },

    /** Stops every generation of a conversation before it is deleted. */
    async stopConversation(conversationId: string) {
      const generations = [...running.values()].filter((generation) => generation.conversationId === conversationId);
      for (const generation of generations) generation.stop('user');
      await Promise.all(generations.map((generation) => generation.done));
    },

    heartbeat,

    runningCount: () => running.size,

    /** Streams following a reply that have not delivered its MessageFinished yet. */
    followerCount: () => activeFollowers,

    /** Text of a reply still streaming in this process, fresher than its last flush. */
    liveContent(messageId: string): { text: string; sealed: boolean } | undefined {
      const generation = running.get(messageId);
      return generation ? { text: generation.currentContent(), sealed: generation.sealed } : undefined;
    },

    /** Lets running replies finish within the grace period, then stops the rest (stored as STOPPED). */
    async shutdown(graceMs: number) {
      const all = [...running.values()];
      if (all.length === 0) {
        await Promise.allSettled([...background]);
        await stopRequests.return();
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
      await Promise.race([Promise.all(all.map((generation) => generation.done)), grace]);
      clearTimeout(timer);
      for (const generation of running.values()) generation.stop('shutdown');
      await Promise.all([...running.values()].map((generation) => generation.done));
      await Promise.allSettled([...background]);
      await stopRequests.return();
    },

    /**
     * Replies left STREAMING by a process that died can never finish: mark them
     * FAILED with what they had. Only safe while one instance owns the database.
     */
    async failOrphans() {
      const { count } = await prisma.message.updateMany({
        where: { status: { in: [...unfinished] }, id: { notIn: [...running.keys()] } },
        data: { status: 'FAILED', errorCode: 'INTERRUPTED', errorMessage: 'The server stopped before this reply finished.', completedAt: new Date() },
      });
      return count;
    },
  };
}

export type ChatService = ReturnType<typeof createChatService>;
