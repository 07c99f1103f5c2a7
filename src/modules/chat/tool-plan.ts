import type { ToolRun } from '../tools/tool-setup.js';
import type { PlannedReply } from './turn-plan.js';

/**
 * A reply offered tools. With server tools it may call the model up to
 * MAX_TOOL_STEPS times, so it reserves for that many calls of its context;
 * settling returns what it did not spend.
 */
export function withTools(planned: PlannedReply, tools: ToolRun | undefined): PlannedReply {
  if (!tools) return planned;
  const steps = tools.server.size > 0 ? Math.max(1, tools.limits.maxSteps) : 1;
  return { ...planned, tools, reservation: planned.reservation * steps };
}
