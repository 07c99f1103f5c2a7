import type { UploadedFile } from '../../generated/prisma/client.js';
import { truncated } from '../../lib/text.js';
import type { Privacy } from '../../generated/prisma/enums.js';
import { badInput, UserFacingError } from '../../lib/errors.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import { isImage } from '../files/files.service.js';
import type { Actor } from '../identity/actor.js';
import { maxModelsPerMessage } from '../identity/tiers.js';
import { type buildChatMessages, fitToWindow, type StoredTurn } from './context-builder.js';
import type { ToolRun } from '../tools/tool-setup.js';
import { messageTokens, outputBudgetOf, reservationFor } from './turn-budget.js';

/**
 * Pure planning of a turn: which models answer, under which privacy, with
 * which context, budget, reservation and fallbacks. Nothing here reads or writes.
 */

export type ChatContext = ReturnType<typeof buildChatMessages>;

export interface PlannedReply {
  model: CatalogModel;
  /** The context this model receives, trimmed to its window. */
  messages: ChatContext;
  /** Output tokens the reply may produce, sent to the provider as its limit. */
  outputBudget: number;
  /** Credits reserved up front: the worst case of this context and budget. */
  reservation: number;
  reasoningEffort?: 'low' | 'high';
  /** Models to try, in order, when this one fails before its first token. */
  fallbacks: PlannedReply[];
  /** The tools it is offered, when the message offers any. */
  tools?: ToolRun;
}

export interface PlanSettings {
  catalog: CatalogService;
  creditsFor(cost: number): number;
  maxOutputTokensPerReply: number;
  maxMessageLength: number;
  /** Configured fallbacks by model id. */
  fallbackModels: Record<string, string[]>;
  freeMessageThreshold: number;
}

export function titleFrom(content: string): string {
  const firstLine = content.trim().split('\n')[0] ?? '';
  return firstLine.length > 80 ? `${truncated(firstLine, 79)}…` : firstLine;
}

export function validateContent(settings: PlanSettings, content: string) {
  const length = content.trim().length === 0 ? 0 : content.length;
  if (length < 1 || length > settings.maxMessageLength) throw badInput('input.contentLength', { max: settings.maxMessageLength, length });
}

export function resolveModels(settings: PlanSettings, requested: string[] | null | undefined, actor: Actor): CatalogModel[] {
  const ids = requested?.length ? requested : [settings.catalog.defaultModelId];
  const maxModels = maxModelsPerMessage(actor.tier);
  if (ids.length > maxModels) throw badInput('input.tooManyModels', { max: maxModels, count: ids.length });
  const seen = new Set<string>();
  return ids.map((id) => {
    if (seen.has(id)) throw badInput('input.duplicateModel', { model: id });
    seen.add(id);
    return settings.catalog.requireChatModel(id, actor.tier);
  });
}

/** All models of a message share one privacy, and it must be the conversation's. */
export function privacyOf(models: CatalogModel[], existing: { privacy: Privacy } | null): Privacy {
  const privacies = [...new Set(models.map((model) => model.privacy))];
  if (privacies.length > 1) throw badInput('encryption.mixedPrivacy');
  const privacy = privacies[0]!;
  if (existing && existing.privacy !== privacy) throw badInput('encryption.privacyMismatch', { conversation: existing.privacy, model: privacy });
  return privacy;
}

export function requireVision(models: CatalogModel[], files: UploadedFile[]) {
  if (!files.some(isImage)) return;
  const blind = models.find((model) => !model.modalities.includes('image'));
  if (blind) throw badInput('files.needsVision', { model: blind.id });
}

const continuationOf = <T extends StoredTurn>(turns: T[], replyId: string) => turns.findLast((turn) => turn.parentId === replyId && turn.role === 'ASSISTANT');

/** Which message a new user turn follows when the client did not say. */
export function latestLeaf(turns: Array<StoredTurn & { modelId: string | null }>, preferredModel: string): string | null {
  const lastUser = [...turns].reverse().find((turn) => turn.role === 'USER');
  if (!lastUser) return null;
  const replies = turns.filter((turn) => turn.parentId === lastUser.id && turn.role === 'ASSISTANT' && (turn.content || continuationOf(turns, turn.id)));
  const chosen =
    replies.find((reply) => reply.modelId === preferredModel && reply.status === 'COMPLETE') ??
    replies.find((reply) => reply.status === 'COMPLETE') ??
    replies.at(-1);
  // A reply answered with tool results goes on in its continuation.
  let leaf = chosen;
  for (let next = leaf && continuationOf(turns, leaf.id); next; next = continuationOf(turns, next.id)) leaf = next;
  return leaf?.id ?? lastUser.id;
}

/**
 * Fits the context to the model (oldest history goes first) and prices its
 * worst case, so the reservation covers whatever the provider sends back.
 */
export function planReply(settings: PlanSettings, model: CatalogModel, context: ChatContext, enableThinking?: boolean | null): PlannedReply {
  const outputBudget = outputBudgetOf(model, settings.maxOutputTokensPerReply);
  const available = model.contextWindow - outputBudget;
  const fitted = fitToWindow(context, available, (message) => messageTokens(message, model.id));
  if (!('messages' in fitted)) {
    const details = { model: model.id, needed: fitted.tokens, available };
    throw new UserFacingError('CONTEXT_TOO_LONG', 'context.tooLong', details, details);
  }
  const pricing = { costOf: settings.catalog.costOf, creditsFor: settings.creditsFor };
  return {
    model,
    messages: fitted.messages,
    outputBudget,
    reservation: reservationFor(pricing, model, fitted.messages, outputBudget),
    reasoningEffort: enableThinking === true ? 'high' : enableThinking === false ? 'low' : undefined,
    fallbacks: [],
  };
}

/**
 * Plans a model and its fallbacks (the request's, then the configured ones):
 * a fallback must be allowed, of the same privacy and fit the context, and
 * the reservation covers the most expensive of them.
 */
export function planWithFallbacks(
  settings: PlanSettings,
  actor: Actor,
  model: CatalogModel,
  context: ChatContext,
  input: { enableThinking?: boolean | null; fallbackModels?: string[] | null },
): PlannedReply {
  const { catalog } = settings;
  const primary = planReply(settings, model, context, input.enableThinking);
  const requested = (input.fallbackModels ?? []).map((id) => catalog.requireChatModel(id, actor.tier));
  const configured = (settings.fallbackModels[model.id] ?? []).flatMap((id) => {
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
      primary.fallbacks.push(planReply(settings, fallback, context, input.enableThinking));
    } catch {
      // A fallback whose window cannot hold this context is simply not tried.
    }
  }
  primary.reservation = Math.max(primary.reservation, ...primary.fallbacks.map((fallback) => fallback.reservation));
  return primary;
}

export const takesFreeAllowance = (settings: PlanSettings, actor: Actor) => actor.tier === 'FREE' && settings.freeMessageThreshold > 0;

/** Whether the turn's debit will most likely pass, judged by the balance read when the operation began. */
export function looksAffordable(settings: PlanSettings, actor: Actor, plans: PlannedReply[]): boolean {
  const seen = actor.billingSeen;
  if (!seen) return false;
  if (takesFreeAllowance(settings, actor) && seen.freeMessagesUsed >= settings.freeMessageThreshold) return false;
  return seen.creditBalance >= plans.reduce((sum, planned) => sum + planned.reservation, 0);
}
