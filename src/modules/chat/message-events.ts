import type { MessageStatus } from '../../generated/prisma/enums.js';

export interface ToolCallData {
  id: string;
  name: string;
  arguments: string;
  result?: string | null;
  /** Which model call of the reply made it (1, 2, ...), when the reply ran tools. */
  step?: number;
  /** Run by the gateway (a server tool) rather than by the caller. */
  server?: boolean;
  /** The result reports a failure (a tool that threw or timed out, or a caller's error result). */
  isError?: boolean;
}

interface EventBase {
  messageId: string;
  conversationId: string;
  /** 1, 2, 3, ... per message; MessageFinished has the last one. */
  seq: number;
}

export type MessageEvent =
  | (EventBase & { type: 'TokenDelta'; delta: string })
  | (EventBase & { type: 'ReasoningDelta'; delta: string })
  | (EventBase & { type: 'ToolCallEvent'; toolCall: ToolCallData })
  | (EventBase & { type: 'ToolResultEvent'; toolCallId: string; result: string })
  | (EventBase & { type: 'MessageFinished'; status: MessageStatus });

export type MessageEventInput = MessageEvent extends infer Event ? (Event extends EventBase ? Omit<Event, 'seq'> : never) : never;

/**
 * Events that were waiting for a subscriber that fell behind, with each run of
 * consecutive deltas of one kind sent as one delta (the seq of its last). Only
 * what is already waiting is merged: nothing is held back for a later token.
 */
export function coalesceDeltas(events: MessageEvent[]): MessageEvent[] {
  const merged: MessageEvent[] = [];
  for (const event of events) {
    const last = merged.at(-1);
    const joins = last && (event.type === 'TokenDelta' || event.type === 'ReasoningDelta') && last.type === event.type && event.seq === last.seq + 1;
    if (joins) merged[merged.length - 1] = { ...event, delta: last.delta + event.delta };
    else merged.push(event);
  }
  return merged;
}
