import type { Actor } from '../../identity/actor.js';

/** Who runs a server tool: its output is this caller's to see, its costs this caller's to pay. */
export interface ServerToolContext {
  actor: Actor;
}

/** A tool the gateway runs itself when a model calls it. */
export interface ServerTool {
  name: string;
  description: string;
  /** JSON Schema of the arguments, as the model is shown it. */
  parameters: Record<string, unknown>;
  /** Whether this caller may use it (tier, configuration). */
  available(context: ServerToolContext): boolean;
  /** The text the model reads as the result; a thrown error becomes an error result the model sees. */
  run(args: Record<string, unknown>, context: ServerToolContext, signal: AbortSignal): Promise<string>;
}

export const stringArgument = (args: Record<string, unknown>, name: string): string => {
  const value = args[name];
  if (typeof value !== 'string' || !value.trim()) throw new Error(`"${name}" must be a non-empty string`);
  return value.trim();
};
