import { badInput } from '../../lib/errors.js';
import type { SendMessageRequest } from '../chat/chat.service.js';
import type { ToolResultInput } from '../chat/tool-results.js';
import type { ClientToolDefinition, ToolChoiceName } from '../tools/tool-setup.js';

/** The parts of OpenAI's chat completion request the gateway reads. */
export interface ChatCompletionBody {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  request: SendMessageRequest;
  /** Tool messages that end the request: the results of the calls the conversation's latest reply waits for. */
  toolResults: ToolResultInput[];
}

type Role = 'USER' | 'ASSISTANT';
type ReadMessage = { role: Role | 'SYSTEM' | 'TOOL'; content: string; toolCallId?: string };
const roles: Record<string, Role | 'SYSTEM'> = { system: 'SYSTEM', developer: 'SYSTEM', user: 'USER', assistant: 'ASSISTANT' };

const required = (param: string) => badInput('openai.required', { param }, { param });
const invalid = (param: string) => badInput('openai.invalid', { param }, { param });
const unsupported = (param: string) => badInput('openai.unsupported', { param }, { param });

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A message's text: a string, or text parts (other parts, images say, are not taken yet). */
function textOf(content: unknown, param: string): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw invalid(param);
  return content
    .map((part, index) => {
      if (!isObject(part) || part.type !== 'text') throw unsupported(`${param}[${index}]`);
      if (typeof part.text !== 'string') throw invalid(`${param}[${index}].text`);
      return part.text;
    })
    .join('');
}

function readMessages(messages: unknown): ReadMessage[] {
  if (!Array.isArray(messages) || messages.length === 0) throw required('messages');
  return messages.map((message, index) => {
    const param = `messages[${index}]`;
    if (!isObject(message)) throw invalid(param);
    const role = typeof message.role === 'string' ? roles[message.role] : undefined;
    if (message.function_call !== undefined && message.function_call !== null) throw unsupported(`${param}.function_call`);
    if (message.role === 'tool') {
      if (typeof message.tool_call_id !== 'string') throw required(`${param}.tool_call_id`);
      return { role: 'TOOL', content: textOf(message.content, `${param}.content`), toolCallId: message.tool_call_id };
    }
    if (!role) throw invalid(`${param}.role`);
    // An assistant message that called tools is in the stored conversation already; its text is all that is read.
    if (role === 'ASSISTANT' && message.tool_calls && (message.content === null || message.content === undefined)) return { role, content: '' };
    return { role, content: textOf(message.content, `${param}.content`) };
  });
}

/** OpenAI's function tools as the caller's client functions. */
function toolsOf(tools: unknown): ClientToolDefinition[] | null {
  if (tools === undefined || tools === null) return null;
  if (!Array.isArray(tools)) throw invalid('tools');
  return tools.map((tool, index) => {
    if (!isObject(tool) || tool.type !== 'function') throw unsupported(`tools[${index}].type`);
    const fn = tool.function;
    if (!isObject(fn) || typeof fn.name !== 'string') throw invalid(`tools[${index}].function`);
    return { name: fn.name, description: typeof fn.description === 'string' ? fn.description : null, parameters: fn.parameters };
  });
}

const toolChoices: Record<string, ToolChoiceName> = { auto: 'AUTO', none: 'NONE', required: 'REQUIRED' };

/** The choices the gateway's ToolChoice supports; naming one function is not among them. */
function toolChoiceOf(choice: unknown): ToolChoiceName | null {
  if (choice === undefined || choice === null) return null;
  if (typeof choice === 'string' && toolChoices[choice]) return toolChoices[choice];
  if (isObject(choice) && choice.type === 'function') throw unsupported('tool_choice');
  throw invalid('tool_choice');
}

const thinkingOf = (effort: unknown): boolean | undefined => {
  if (effort === undefined || effort === null || effort === 'medium') return undefined;
  if (effort === 'high') return true;
  if (effort === 'low' || effort === 'minimal') return false;
  throw invalid('reasoning_effort');
};

/** The tool messages after the last assistant message, as results for its calls. */
function trailingToolResults(messages: ReadMessage[]): ToolResultInput[] {
  const results: ToolResultInput[] = [];
  for (let index = messages.length - 1; index >= 0 && messages[index]!.role === 'TOOL'; index--) {
    results.unshift({ toolCallId: messages[index]!.toolCallId!, output: messages[index]!.content });
  }
  return results;
}

/**
 * OpenAI's request as a turn: system and developer messages are the system
 * prompt, the last message (the user's) is the turn, the rest is history.
 * In a stored conversation the history is the conversation's own, so only the
 * last message is taken. Function tools are the caller's;
 * tool messages that end the request answer the calls of the stored conversation's latest reply. Sampling options are ignored.
 */
export function readChatCompletion(body: unknown, conversationId: string | null): ChatCompletionBody {
  if (!isObject(body)) throw badInput('openai.badJson');
  if (typeof body.model !== 'string' || body.model.length === 0) throw required('model');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw invalid('stream');
  if (Array.isArray(body.functions) ? body.functions.length > 0 : body.functions !== undefined && body.functions !== null) throw unsupported('functions');
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw unsupported('n');
  const messages = readMessages(body.messages);
  const toolResults = trailingToolResults(messages);
  if (toolResults.length > 0 && !conversationId) throw badInput('openai.toolResultsNeedConversation', {}, { param: 'messages' });
  const last = messages.at(-1)!;
  if (last.role !== 'USER' && toolResults.length === 0) throw badInput('openai.lastMessage', {}, { param: 'messages' });
  const system = messages.filter((message) => message.role === 'SYSTEM').map((message) => message.content);
  const history = messages
    .slice(0, -1)
    .filter((message): message is { role: Role; content: string } => message.role === 'USER' || (message.role === 'ASSISTANT' && message.content !== ''));
  const streamOptions = isObject(body.stream_options) ? body.stream_options : {};
  return {
    model: body.model,
    stream: body.stream === true,
    includeUsage: streamOptions.include_usage === true,
    toolResults,
    request: {
      conversationId,
      content: last.content,
      models: [body.model],
      systemPrompt: conversationId || system.length === 0 ? null : system.join('\n\n'),
      history: conversationId ? null : history,
      enableThinking: thinkingOf(body.reasoning_effort),
      tools: toolsOf(body.tools),
      toolChoice: toolChoiceOf(body.tool_choice),
    },
  };
}
