import type { UpstreamResult } from '../../lib/llm/upstream-call.js';
import { countTokens } from '../../lib/tokens.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { StepFigures } from './tool-loop.js';
import { promptTokens } from './turn-budget.js';

/** A reply's figures over all its model calls: the tokens and cost add up, the answering model is the last one's. */
export function totalOf(last: StepFigures, earlier: StepFigures[]): StepFigures {
  const sum = (pick: (figures: StepFigures) => number | null) => earlier.reduce((total, figures) => total + (pick(figures) ?? 0), pick(last) ?? 0);
  if (earlier.length === 0) return last;
  return {
    model: last.model,
    inputTokens: sum((figures) => figures.inputTokens),
    outputTokens: sum((figures) => figures.outputTokens),
    reasoningTokens: last.reasoningTokens === null ? null : sum((figures) => figures.reasoningTokens),
    cachedInputTokens: last.cachedInputTokens === null ? null : sum((figures) => figures.cachedInputTokens),
    cost: sum((figures) => figures.cost),
  };
}

/** What the final write stores and the settlement is told, from what arrived and what the provider reported. */
export function summarize(
  costOf: (model: CatalogModel, inputTokens: number, outputTokens: number) => number,
  result: UpstreamResult<CatalogModel>,
  text: { content: string; reasoning: string },
): StepFigures {
  const { candidate, usage } = result;
  const model = candidate.model;
  // Without provider usage (stopped, failed, or a provider that sends none),
  // count the tokens actually sent and produced so nobody pays for more.
  const inputTokens = usage?.inputTokens ?? promptTokens(candidate.messages, model.id);
  const outputTokens = usage?.outputTokens ?? countTokens(text.content + text.reasoning, model.id);
  // A call that failed before the provider produced anything is not charged.
  const producedNothing = result.status === 'FAILED' && !usage && text.content === '' && text.reasoning === '';
  const cost = producedNothing ? 0 : costOf(model, inputTokens, outputTokens);
  return { model, inputTokens, outputTokens, reasoningTokens: usage?.reasoningTokens ?? null, cachedInputTokens: usage?.cachedInputTokens ?? null, cost };
}
