import type { ToolCallData } from './message-events.js';

/** Results for the calls of a reply that waits for them; the reply is completed only if it still waits. */
export interface ToolAnswers {
  messageId: string;
  toolCalls: ToolCallData[];
  notAwaiting: () => Error;
}
