import type { ChatCompletionMessageParam, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import type { ProviderToolCall } from '../../lib/llm/provider-stream.js';
import type { UpstreamResult } from '../../lib/llm/upstream-call.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { ToolRun } from '../tools/tool-setup.js';
import type { GenerationCandidate } from './generation.js';
import type { ToolCallData } from './message-events.js';
import { runServerCalls } from './tool-runs.js';

/** The figures of one model call, as the settlement counts them. */
export interface StepFigures {
  model: CatalogModel;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number | null;
  cachedInputTokens: number | null;
  cost: number;
}

export interface LoopStep {
  result: UpstreamResult<CatalogModel>;
  calls: ProviderToolCall[];
  content: string;
  figures: StepFigures;
}

export interface ToolLoopDeps {
  run: ToolRun;
  signal: AbortSignal;
  /** Credits the whole reply may spend, and what a call of this context would at worst cost. */
  budget: { reservation: number; creditsFor(cost: number): number; worstCase(candidate: GenerationCandidate): number };
  /** One model call; the first gets every planned candidate, later ones the model that answered. */
  step(candidates: GenerationCandidate[], toolChoice: ChatCompletionToolChoiceOption | undefined): Promise<LoopStep>;
  emit(event: ToolEvent): Promise<void>;
}

type ToolEvent = { type: 'ToolCallEvent'; toolCall: ToolCallData } | { type: 'ToolResultEvent'; toolCallId: string; result: string };

export interface LoopOutcome {
  steps: LoopStep[];
  toolCalls: ToolCallData[];
  /** Client functions were called: the reply waits for the caller's results. */
  awaiting: boolean;
  /** Why the loop ended before the model answered, when it did. */
  error?: { code: string; message: string };
}

/** Arguments as valid JSON: none is `{}`, text a provider garbled is kept as a JSON string. */
export function validArguments(text: string): string {
  if (!text.trim()) return '{}';
  try {
    JSON.parse(text);
    return text;
  } catch {
    return JSON.stringify(text);
  }
}

/** A step's calls with ids unique within the reply and their arguments valid JSON; a name the caller did not offer is the gateway's to answer. */
function callsOf(step: LoopStep, number: number, run: ToolRun, taken: Set<string>): ToolCallData[] {
  const clientNames = new Set(run.setup.clientTools.map((tool) => tool.name));
  return step.calls.map((call, index) => {
    const id = call.id && !taken.has(call.id) ? call.id : `call_${number}_${index}`;
    taken.add(id);
    return { id, name: call.name, arguments: validArguments(call.arguments), step: number, server: !clientNames.has(call.name), result: null };
  });
}

/** What the provider is sent after a step that called tools: the calls, then each one's result. */
function followUp(content: string, calls: ToolCallData[]): ChatCompletionMessageParam[] {
  return [
    {
      role: 'assistant',
      content: content || null,
      tool_calls: calls.map((call) => ({ id: call.id, type: 'function' as const, function: { name: call.name, arguments: call.arguments } })),
    },
    ...calls.map((call) => ({ role: 'tool' as const, tool_call_id: call.id, content: call.result ?? '' })),
  ];
}

const spentBy = (steps: LoopStep[], creditsFor: (cost: number) => number) => creditsFor(steps.reduce((sum, step) => sum + step.figures.cost, 0));

/**
 * The bounded agent loop of one reply: call the model; when it calls server
 * tools, run them (at once, each with a timeout and an output cap), give it
 * the results and call it again, until it answers, calls a client function
 * (the reply then waits for the caller), or MAX_TOOL_STEPS is reached (the
 * last call is made with tool_choice "none", so the model answers with what
 * it has), or the next call would spend more than the reply reserved.
 */
export async function runToolLoop(deps: ToolLoopDeps, candidates: GenerationCandidate[]): Promise<LoopOutcome> {
  const { run, budget } = deps;
  const steps: LoopStep[] = [];
  const toolCalls: ToolCallData[] = [];
  const taken = new Set<string>();
  let next = candidates;
  for (let number = 1; ; number += 1) {
    const last = number >= run.limits.maxSteps;
    if (number > 1 && spentBy(steps, budget.creditsFor) + budget.worstCase(next[0]!) > budget.reservation) {
      return {
        steps,
        toolCalls,
        awaiting: false,
        error: { code: 'TOOL_BUDGET_EXHAUSTED', message: 'The reply used up its credit reservation in tool calls.' },
      };
    }
    // After the first call a required tool has been called; the model may now answer.
    const choice = last ? 'none' : number > 1 && run.toolChoice === 'required' ? 'auto' : run.toolChoice;
    const step = await deps.step(next, choice);
    steps.push(step);
    const calls = callsOf(step, number, run, taken);
    toolCalls.push(...calls);
    for (const call of calls) await deps.emit({ type: 'ToolCallEvent', toolCall: { id: call.id, name: call.name, arguments: call.arguments } });
    if (step.result.status !== 'COMPLETE' || calls.length === 0 || deps.signal.aborted) return { steps, toolCalls, awaiting: false };
    const client = calls.filter((call) => !call.server);
    if (last && client.length === 0) {
      return { steps, toolCalls, awaiting: false, error: { code: 'TOOL_STEP_LIMIT', message: `The reply reached MAX_TOOL_STEPS (${run.limits.maxSteps}).` } };
    }
    await runServerCalls(run, calls, deps.signal, (call) => deps.emit({ type: 'ToolResultEvent', toolCallId: call.id, result: call.result ?? '' }));
    if (deps.signal.aborted || client.length > 0) return { steps, toolCalls, awaiting: client.length > 0 && !deps.signal.aborted };
    const answered = step.result.candidate;
    next = [{ ...answered, messages: [...answered.messages, ...followUp(step.content, calls)] }];
  }
}
