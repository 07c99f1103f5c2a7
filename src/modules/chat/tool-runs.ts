import { localize } from '../../graphql/messages.js';
import { truncated } from '../../lib/text.js';
import { UserFacingError } from '../../lib/errors.js';
import { traceToolRun } from '../../lib/tracing.js';
import type { ToolRun } from '../tools/tool-setup.js';
import type { ToolCallData } from './message-events.js';

class ToolTimeout extends Error {}

function capped(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${truncated(text, maxChars)}\n[truncated: ${text.length - maxChars} more characters]`;
}

function argumentsOf(call: ToolCallData): Record<string, unknown> {
  const parsed: unknown = JSON.parse(call.arguments);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('the arguments must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** What the model reads of a failure: a refusal's English text (it names what was wrong), or the error's message. */
function messageOf(error: unknown): string {
  if (error instanceof UserFacingError) return localize(error.messageKey, error.params, undefined);
  return error instanceof Error ? error.message : String(error);
}

/** Runs one server call within the timeout; a failure is a result the model reads, not an error of the reply. */
async function runOne(run: ToolRun, call: ToolCallData, stop: AbortSignal): Promise<void> {
  const tool = run.server.get(call.name);
  if (!tool) {
    call.isError = true;
    call.result = `Error: there is no tool named "${call.name}".`;
    return;
  }
  const controller = new AbortController();
  const abort = () => controller.abort();
  stop.addEventListener('abort', abort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new ToolTimeout());
      controller.abort();
    }, run.limits.timeoutMs);
  });
  const stopped = new Promise<never>((_, reject) => controller.signal.addEventListener('abort', () => reject(new ToolTimeout()), { once: true }));
  try {
    const output = await Promise.race([tool(argumentsOf(call), controller.signal), timedOut, stopped]);
    call.result = capped(output, run.limits.outputMaxChars);
    call.isError = false;
  } catch (error) {
    if (stop.aborted) return;
    call.isError = true;
    call.result =
      error instanceof ToolTimeout
        ? `Error: ${call.name} did not answer within ${run.limits.timeoutMs} ms.`
        : capped(`Error: ${messageOf(error)}`, run.limits.outputMaxChars);
  } finally {
    clearTimeout(timer);
    stop.removeEventListener('abort', abort);
  }
}

/**
 * Runs a step's server calls at once; each result is written into its call and
 * announced as soon as it is there. A stop leaves unfinished calls without a result.
 */
export async function runServerCalls(run: ToolRun, calls: ToolCallData[], stop: AbortSignal, announce: (call: ToolCallData) => Promise<void>) {
  await Promise.all(
    calls
      .filter((call) => call.server)
      .map(async (call) => {
        await traceToolRun(call.name, async (span) => {
          await runOne(run, call, stop);
          span.setAttribute('gen_ai.tool.error', call.isError === true);
        });
        if (call.result !== null && call.result !== undefined) await announce(call);
      }),
  );
}
