import type { ChatCompletionTool, ChatCompletionToolChoiceOption } from 'openai/resources/chat/completions';
import { badInput, forbidden } from '../../lib/errors.js';
import type { Actor } from '../identity/actor.js';
import type { ServerToolRegistry } from './server-tools/registry.js';

export type ToolChoiceName = 'AUTO' | 'NONE' | 'REQUIRED';

export interface ClientToolDefinition {
  name: string;
  description?: string | null;
  parameters?: unknown;
}

/** What a reply was offered, stored with a reply that waits for results so its continuation is offered the same. */
export interface ToolSetup {
  clientTools: ClientToolDefinition[];
  serverTools: string[];
  toolChoice?: ToolChoiceName | null;
}

export interface ToolLimits {
  maxSteps: number;
  timeoutMs: number;
  outputMaxChars: number;
}

export type ServerToolRunner = (args: Record<string, unknown>, signal: AbortSignal) => Promise<string>;

/** A reply's tools, ready to send to the provider and to run for its caller. */
export interface ToolRun {
  setup: ToolSetup;
  definitions: ChatCompletionTool[];
  toolChoice?: ChatCompletionToolChoiceOption;
  server: Map<string, ServerToolRunner>;
  limits: ToolLimits;
}

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_TOOLS = 64;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function definitionOf(name: string, description: string | null | undefined, parameters: unknown): ChatCompletionTool {
  return {
    type: 'function',
    function: {
      name,
      ...(description ? { description } : {}),
      parameters: (parameters as Record<string, unknown> | undefined) ?? { type: 'object', properties: {} },
    },
  };
}

function checkClientTools(tools: ClientToolDefinition[], serverNames: string[]) {
  if (tools.length + serverNames.length > MAX_TOOLS) throw badInput('tools.tooMany', { max: MAX_TOOLS });
  const seen = new Set(serverNames);
  for (const tool of tools) {
    if (!TOOL_NAME.test(tool.name)) throw badInput('tools.name', { name: tool.name.slice(0, 80) });
    if (seen.has(tool.name)) throw badInput('tools.duplicate', { name: tool.name });
    seen.add(tool.name);
    if (tool.parameters !== undefined && tool.parameters !== null && !isObject(tool.parameters)) throw badInput('tools.parameters', { name: tool.name });
  }
}

/**
 * Checks the tools a message offers and resolves them for its caller: client
 * functions are passed to the provider, server tools must exist and be
 * available to the caller's tier. Undefined when the message offers none.
 */
export function prepareTools(registry: ServerToolRegistry, limits: ToolLimits, actor: Actor, setup: ToolSetup): ToolRun | undefined {
  const serverNames = [...new Set(setup.serverTools)];
  if (setup.clientTools.length === 0 && serverNames.length === 0) {
    if (setup.toolChoice === 'REQUIRED') throw badInput('tools.choiceWithoutTools');
    return undefined;
  }
  checkClientTools(setup.clientTools, serverNames);
  const context = { actor };
  const server = new Map<string, ServerToolRunner>();
  const definitions: ChatCompletionTool[] = [];
  for (const name of serverNames) {
    const tool = registry.get(name);
    if (!tool) throw badInput('tools.unknownServerTool', { name: name.slice(0, 80) });
    if (!tool.available(context)) throw forbidden('tools.serverToolUnavailable', { name });
    server.set(name, (args, signal) => tool.run(args, context, signal));
    definitions.push(definitionOf(tool.name, tool.description, tool.parameters));
  }
  for (const tool of setup.clientTools) definitions.push(definitionOf(tool.name, tool.description, tool.parameters));
  const toolChoice = setup.toolChoice ? (setup.toolChoice.toLowerCase() as 'auto' | 'none' | 'required') : undefined;
  return { setup: { ...setup, serverTools: serverNames }, definitions, toolChoice, server, limits };
}
