/**
 * What the reply path tells operations about, once per provider call and once
 * per settled reply: never per token, so nothing here is on the hot path.
 */
export interface ProviderCallOutcome {
  /** The model asked for first, and the one that answered (or was tried last). */
  requestedModel: string;
  model: string;
  provider: string;
  status: 'COMPLETE' | 'STOPPED' | 'FAILED';
  retries: number;
}

export interface SettledReply {
  model: string;
  provider: string;
  status: string;
  inputTokens: number;
  outputTokens: number;
  reasoningTokens: number | null;
  cost: number;
  latencyMs: number;
  timeToFirstTokenMs: number | null;
}

export interface ReplyObserver {
  providerCall(outcome: ProviderCallOutcome): void;
  replySettled(reply: SettledReply): void;
}
