import type { PrismaClient, UploadedFile } from '../../generated/prisma/client.js';
import { isUniqueViolation } from '../../lib/db.js';
import { badInput, forbidden } from '../../lib/errors.js';
import type { ConversationAccess, ConversationAccessService } from '../encryption/conversation-access.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { FilesService } from '../files/files.service.js';
import type { Actor } from '../identity/actor.js';
import { hasFeature } from '../identity/tiers.js';
import type { MemoriesService } from '../memories/memories.service.js';
import { type ContextCitation, knowledgeForTurn } from '../knowledge/knowledge-context.js';
import type { KnowledgeService } from '../knowledge/knowledge.service.js';
import { type WebSearch, webContext } from '../search/web-search.js';
import type { TemplatesService } from '../templates/templates.service.js';
import type { SendMessageRequest, SendResult } from './chat.service.js';
import { branchEndingAt, buildChatMessages } from './context-builder.js';
import type { MessageStore } from './message-store.js';
import type { ReplyRunner } from './reply-runner.js';
import type { TurnAdmission } from './turn-admission.js';
import type { TurnContext } from './turn-context.js';
import {
  latestLeaf,
  looksAffordable,
  type PlannedReply,
  type PlanSettings,
  planWithFallbacks,
  privacyOf,
  requireVision,
  resolveModels,
  titleFrom,
  validateContent,
} from './turn-plan.js';
import { newTurnIds, type TurnIds } from './turn-writer.js';
import { withTools } from './tool-plan.js';
import type { ToolRun } from '../tools/tool-setup.js';

export interface TurnSenderDeps {
  prisma: PrismaClient;
  settings: PlanSettings;
  store: MessageStore;
  context: TurnContext;
  runner: ReplyRunner;
  admission: TurnAdmission;
  access: ConversationAccessService;
  files: FilesService;
  /** Announces a stored turn's reservation to followers of the account. */
  credits: Pick<CreditsService, 'announce'>;
  templates: TemplatesService;
  memories: MemoriesService;
  knowledge: KnowledgeService;
  webSearch: WebSearch;
  /** The tools a message offers, checked and resolved for its caller. */
  prepareTools(actor: Actor, input: SendMessageRequest): ToolRun | undefined;
  /** Ids of new conversations and messages (time-ordered UUIDs unless a test chooses). */
  generateId?: () => string;
}

const MAX_CLIENT_MESSAGE_ID = 200;

/** A turn's key in the database: unique per caller, so two callers may choose the same id. */
const clientKeyOf = (actor: Actor, clientMessageId: string | null | undefined) => (clientMessageId ? `${actor.userId}:${clientMessageId}` : null);

interface PreparedTurn {
  existing: { id: string } | null;
  parentId: string | null;
  files: UploadedFile[];
  plans: PlannedReply[];
  access: ConversationAccess;
  citations: ContextCitation[];
}

/** sendMessage, chat and chatStream: plan the turn, build its context, store it and start its replies. */
export function createTurnSender(deps: TurnSenderDeps) {
  const { settings, store, runner } = deps;

  /** The turn a key already made, for a caller sending it again (a retry after a lost answer). */
  async function existingTurn(clientKey: string | null): Promise<SendResult | null> {
    if (!clientKey) return null;
    const question = await deps.prisma.message.findUnique({ where: { clientKey } });
    if (!question) return null;
    const replies = await deps.prisma.message.findMany({ where: { parentId: question.id, role: 'ASSISTANT' }, orderBy: { position: 'asc' } });
    return { conversationId: question.conversationId, userMessage: question, replies };
  }

  async function prepare(actor: Actor, input: SendMessageRequest, files: UploadedFile[]): Promise<PreparedTurn> {
    const models = resolveModels(settings, input.models, actor);
    const requestedParent = input.parentMessageId ? await store.ownedMessage(actor, input.parentMessageId) : null;
    if (requestedParent && input.conversationId && requestedParent.conversationId !== input.conversationId) {
      throw badInput('input.parentElsewhere', { id: input.parentMessageId ?? '' });
    }
    const conversationId = input.conversationId ?? requestedParent?.conversationId;
    const existing = conversationId ? await store.ownedConversation(actor, conversationId) : null;
    const access = await deps.access.forPrivacy(actor, privacyOf(models, existing), input.secret);
    if (access.privacy !== 'PUBLIC' && (input.fileIds?.length || input.attachments?.length || input.fileUrls?.length)) throw badInput('encryption.noFiles');
    if (input.webSearch && !hasFeature(actor.tier, 'web_search')) throw forbidden('auth.feature', { feature: 'web_search' });
    await deps.files.checkRoomFor(existing?.id ?? null, files);
    requireVision(models, files);
    const web = input.webSearch ? webContext(await deps.webSearch.search(input.content)) : undefined;
    if (access.privacy !== 'PUBLIC' && input.collectionIds?.length) throw badInput('knowledge.encrypted');
    // Sources may take a quarter of the smallest window; history is trimmed before them.
    const knowledge = await knowledgeForTurn(deps.knowledge, deps.prisma, actor, {
      query: input.content,
      collectionIds: input.collectionIds ?? [],
      tokenBudget: Math.floor(Math.min(...models.map((model) => model.contextWindow || 8_000)) / 4),
    });
    const { all, readable } = await deps.context.storedTurns(existing?.id, access);
    // Editing a user message starts a sibling of it; answering a reply continues after it.
    const parentId = requestedParent ? (requestedParent.role === 'USER' ? requestedParent.parentId : requestedParent.id) : latestLeaf(all, models[0]!.id);
    const messages = buildChatMessages({
      systemPrompt: await deps.templates.systemPromptFor(actor, input, await deps.context.readableConversation(existing, access)),
      memories: await deps.memories.relevantTo(actor, input.content),
      webContext: web,
      knowledge: knowledge.block,
      history: await deps.context.withFiles(branchEndingAt(readable, parentId), models),
      clientHistory: input.history ?? undefined,
      userContent: input.content,
      files: await deps.context.contextFiles(files),
    });
    const tools = deps.prepareTools(actor, input);
    if (tools && access.privacy !== 'PUBLIC') throw badInput('tools.encrypted');
    const plans = models.map((model) => withTools(planWithFallbacks(settings, actor, model, messages, input), tools));
    return { existing, parentId, files, plans, access, citations: knowledge.citations };
  }

  /** One statement: a refused allowance or credit check leaves no conversation, message or attachment behind. */
  async function storeTurn(actor: Actor, input: SendMessageRequest, turn: PreparedTurn, ids: TurnIds): Promise<SendResult & { repeated: boolean }> {
    const { existing, access, plans } = turn;
    // A template named on a message becomes the conversation's template for later turns.
    const template = input.templateName ? { name: input.templateName, variables: input.templateVariables ?? {} } : undefined;
    const stored = await store.writeTurn({
      billedUserId: actor.billedUserId,
      freeMessageLimit: deps.admission.freeAllowanceOf(actor),
      conversation: existing
        ? { id: existing.id, template }
        : {
            ownerId: actor.userId,
            title: await access.seal(titleFrom(input.content)),
            systemPrompt: input.systemPrompt ? await access.seal(input.systemPrompt) : null,
            privacy: access.privacy,
            template,
          },
      question: { content: await access.seal(input.content), parentId: turn.parentId, clientKey: clientKeyOf(actor, input.clientMessageId) },
      fileIds: turn.files.map((file) => file.id),
      citations: turn.citations,
      replies: plans.map((planned) => ({ modelId: planned.model.id, reservation: planned.reservation })),
      ids,
    });
    if (stored) {
      deps.credits.announce(actor.billedUserId);
      return { ...stored, repeated: false };
    }
    const repeated = await existingTurn(clientKeyOf(actor, input.clientMessageId));
    if (repeated) return { ...repeated, repeated: true };
    throw await deps.admission.refusal(
      actor,
      plans.reduce((sum, planned) => sum + planned.reservation, 0),
    );
  }

  /**
   * Stores the turn and starts its replies. When the balance read for this
   * operation covers the turn and no other turn is on its way to the database,
   * the providers are called while it is stored: the debit is still the check,
   * and the replies of a refused turn are cancelled unseen.
   */
  let turnsBeingStored = 0;
  async function storeAndLaunch(actor: Actor, input: SendMessageRequest, turn: PreparedTurn): Promise<SendResult> {
    const ids = newTurnIds(turn.existing?.id, turn.plans.length, deps.generateId);
    const launchAll = (admitted?: Promise<boolean>) => {
      for (const [index, planned] of turn.plans.entries()) {
        runner.launch(
          actor,
          { conversationId: ids.conversationId, messageId: ids.replyIds[index]!, questionId: ids.questionId },
          planned,
          turn.access,
          admitted,
        );
      }
    };
    let admit: ((stored: boolean) => void) | undefined;
    if (turnsBeingStored === 0 && looksAffordable(settings, actor, turn.plans)) {
      const admitted = new Promise<boolean>((resolve) => (admit = resolve));
      try {
        launchAll(admitted);
      } catch (error) {
        admit!(false);
        throw error;
      }
    }
    turnsBeingStored += 1;
    try {
      const { repeated, ...stored } = await storeTurn(actor, input, turn, ids);
      // A turn its key already made runs already: the replies called early for this one are cancelled unseen.
      if (admit) admit(!repeated);
      else if (!repeated) launchAll();
      return stored;
    } catch (error) {
      admit?.(false);
      throw error;
    } finally {
      turnsBeingStored -= 1;
    }
  }

  async function send(actor: Actor, input: SendMessageRequest): Promise<SendResult> {
    validateContent(settings, input.content);
    if (
      input.clientMessageId !== undefined &&
      input.clientMessageId !== null &&
      (input.clientMessageId.length < 1 || input.clientMessageId.length > MAX_CLIENT_MESSAGE_ID)
    ) {
      throw badInput('input.clientMessageId', { max: MAX_CLIENT_MESSAGE_ID });
    }
    const clientKey = clientKeyOf(actor, input.clientMessageId);
    // A repeat is answered before any limit is counted: it makes nothing new.
    const repeated = await existingTurn(clientKey);
    if (repeated) return repeated;
    await deps.admission.countRequest(actor);
    const { files, inline } = await deps.context.gatherFiles(actor, input, input.conversationId ?? null);
    try {
      return await storeAndLaunch(actor, input, await prepare(actor, input, files));
    } catch (error) {
      if (inline.length > 0)
        await deps.files.remove(
          actor,
          inline.map((file) => file.id),
        );
      // The same key sent twice at once (PostgreSQL): the unique key refused this statement, so the other's turn is returned.
      if (clientKey && isUniqueViolation(error)) {
        const stored = await existingTurn(clientKey);
        if (stored) return stored;
      }
      throw error;
    }
  }

  return { send };
}
