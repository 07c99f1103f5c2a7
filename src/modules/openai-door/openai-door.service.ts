import type { Message } from '../../generated/prisma/client.js';
import { badInput, forbidden, unauthenticated, UserFacingError } from '../../lib/errors.js';
import type { HeaderSource } from '../../lib/headers.js';
import { decodeGlobalId, encodeGlobalId } from '../../graphql/global-id.js';
import type { Services } from '../../services.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { MessageEvent } from '../chat/message-events.js';
import { type Actor, actorOf, type ApiKeyScope, type Viewer, viewerMay } from '../identity/actor.js';
import { tierAtLeast } from '../identity/tiers.js';
import { type ChatCompletionBody, readChatCompletion } from './chat-completion-request.js';
import { completionOf, modelEntry, pendingCallsOf, usageOf } from './chat-completion-response.js';
import { createDoorEmbeddings } from './door-embeddings.js';

export interface StreamedCompletion {
  conversationId: string;
  includeUsage: boolean;
  model: string;
  reply: Message;
  events: AsyncIterable<MessageEvent>;
}

/**
 * OpenAI's API over the gateway's own services: the same credentials, scopes,
 * tiers, limits, credits, fallbacks, usage rows and stored conversations as GraphQL.
 */
export function createOpenAIDoor(services: Services) {
  const { catalog, chat } = services;
  const prisma = services.db.prisma;
  const embeddings = createDoorEmbeddings(services);

  /** The caller of a request: a bearer credential is required, as OpenAI's clients always send one. */
  async function caller(headers: HeaderSource, scope: ApiKeyScope): Promise<{ viewer: Viewer; actor: Actor }> {
    if (!headers('authorization')) throw unauthenticated();
    const viewer = await services.identity.resolveViewer(headers);
    if (!viewer) throw unauthenticated();
    if (!viewerMay(viewer, scope)) throw forbidden('auth.forbidden');
    return { viewer, actor: actorOf(viewer) };
  }

  /** The conversation a request names with x-conversation-id (its GraphQL id), or null for a new one. */
  function conversationOf(headers: HeaderSource): string | null {
    const named = headers('x-conversation-id')?.trim();
    if (!named) return null;
    const decoded = decodeGlobalId(named);
    if (decoded.typename !== 'Conversation') throw badInput('input.badId', { id: named }, { param: 'x-conversation-id' });
    return decoded.id;
  }

  /** Encrypted conversations need the caller's secret and answer sealed rows: they stay on GraphQL for now. */
  function requirePublicModel(id: string) {
    const model = catalog.find(id);
    if (model && model.privacy !== 'PUBLIC') throw badInput('openai.unsupported', { param: 'model' }, { param: 'model' });
  }

  /**
   * The reply that tool messages answer: the conversation's latest, waiting for
   * exactly those calls. Ownership is checked when the results are submitted.
   */
  async function waitingReplyFor(parsed: ChatCompletionBody): Promise<string> {
    const latest = await prisma.message.findFirst({
      where: { conversationId: parsed.request.conversationId!, role: 'ASSISTANT' },
      orderBy: { position: 'desc' },
    });
    const pending = latest ? pendingCallsOf(latest).map((call) => call.id) : [];
    const given = new Set(parsed.toolResults.map((result) => result.toolCallId));
    if (!latest || pending.length !== given.size || !pending.every((id) => given.has(id))) {
      throw badInput('openai.notAwaitingResults', {}, { param: 'messages' });
    }
    return latest.id;
  }

  const listable = (model: CatalogModel, viewer: Viewer) =>
    catalog.isAvailable(model, viewer.tier) && !model.modalities.includes('realtime') && (model.privacy === 'PUBLIC' || model.modalities.includes('embedding'));

  return {
    caller,

    conversationHeader: (conversationId: string) => encodeGlobalId('Conversation', conversationId),

    /** A whole reply, once it has finished. */
    async complete(actor: Actor, headers: HeaderSource, body: unknown) {
      const parsed = readChatCompletion(body, conversationOf(headers));
      requirePublicModel(parsed.model);
      if (parsed.toolResults.length > 0) {
        const reply = await chat.submitToolResultsAndWait(actor, await waitingReplyFor(parsed), parsed.toolResults);
        return { conversationId: reply.conversationId, reply, completion: completionOf(reply) };
      }
      const result = await chat.sendAndWait(actor, parsed.request);
      return { conversationId: result.conversationId, reply: result.replies[0]!, completion: completionOf(result.replies[0]!) };
    },

    /** Starts a reply and follows its events; errors before the first event (limits, credits, models) are thrown. */
    async stream(actor: Actor, headers: HeaderSource, body: unknown): Promise<StreamedCompletion> {
      const parsed = readChatCompletion(body, conversationOf(headers));
      requirePublicModel(parsed.model);
      const reply =
        parsed.toolResults.length > 0
          ? await chat.submitToolResults(actor, await waitingReplyFor(parsed), parsed.toolResults)
          : (await chat.send(actor, parsed.request)).replies[0]!;
      return {
        conversationId: reply.conversationId,
        includeUsage: parsed.includeUsage,
        model: reply.modelId ?? parsed.model,
        reply,
        events: await chat.followMessage(actor, reply.id, 0),
      };
    },

    /** The stored reply once its stream has finished: status, tokens, the model that answered. */
    finishedReply: (messageId: string) => prisma.message.findUniqueOrThrow({ where: { id: messageId } }),

    usageOf,

    models(viewer: Viewer) {
      return {
        object: 'list',
        data: catalog
          .all()
          .filter((model) => listable(model, viewer))
          .map(modelEntry),
      };
    },

    model(viewer: Viewer, id: string) {
      const model = catalog.find(id);
      if (!model || !listable(model, viewer)) {
        if (model?.enabled && !tierAtLeast(viewer.tier, model.minTier)) {
          throw new UserFacingError('MODEL_NOT_ALLOWED', 'model.notAllowed', { model: id, tier: model.minTier }, { requiredTier: model.minTier });
        }
        throw badInput('input.unknownModel', { model: id });
      }
      return modelEntry(model);
    },

    embed: embeddings.embed,
  };
}

export type OpenAIDoor = ReturnType<typeof createOpenAIDoor>;
