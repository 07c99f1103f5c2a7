import { badInput } from '../../lib/errors.js';
import type { SendMessageRequest } from '../chat/chat.service.js';

/** The parts of OpenAI's chat completion request the gateway reads. */
export interface ChatCompletionBody {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  request: SendMessageRequest;
}

type Role = 'USER' | 'ASSISTANT';
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

function readMessages(messages: unknown) {
  if (!Array.isArray(messages) || messages.length === 0) throw required('messages');
  return messages.map((message, index) => {
    const param = `messages[${index}]`;
    if (!isObject(message)) throw invalid(param);
    const role = typeof message.role === 'string' ? roles[message.role] : undefined;
    if (message.role === 'tool' || message.tool_calls !== undefined || message.function_call !== undefined) throw unsupported(`${param}.tool_calls`);
    if (!role) throw invalid(`${param}.role`);
    return { role, content: textOf(message.content, `${param}.content`) };
  });
}

const thinkingOf = (effort: unknown): boolean | undefined => {
  if (effort === undefined || effort === null || effort === 'medium') return undefined;
  if (effort === 'high') return true;
  if (effort === 'low' || effort === 'minimal') return false;
  throw invalid('reasoning_effort');
};

/**
 * OpenAI's request as a turn: system and developer messages are the system
 * prompt, the last message (the user's) is the turn, the rest is history.
 * In a stored conversation the history is the conversation's own, so only the
 * last message is taken. Tools are refused for now; sampling options are ignored.
 */
export function readChatCompletion(body: unknown, conversationId: string | null): ChatCompletionBody {
  if (!isObject(body)) throw badInput('openai.badJson');
  if (typeof body.model !== 'string' || body.model.length === 0) throw required('model');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw invalid('stream');
  for (const param of ['tools', 'functions'] as const) {
    if (Array.isArray(body[param]) ? (body[param] as unknown[]).length > 0 : body[param] !== undefined && body[param] !== null) throw unsupported(param);
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw unsupported('n');
  const messages = readMessages(body.messages);
  const last = messages.at(-1)!;
  if (last.role !== 'USER') throw badInput('openai.lastMessage', {}, { param: 'messages' });
  const system = messages.filter((message) => message.role === 'SYSTEM').map((message) => message.content);
  const history = messages.slice(0, -1).filter((message): message is { role: Role; content: string } => message.role !== 'SYSTEM');
  const streamOptions = isObject(body.stream_options) ? body.stream_options : {};
  return {
    model: body.model,
    stream: body.stream === true,
    includeUsage: streamOptions.include_usage === true,
    request: {
      conversationId,
      content: last.content,
      models: [body.model],
      systemPrompt: conversationId || system.length === 0 ? null : system.join('\n\n'),
      history: conversationId ? null : history,
      enableThinking: thinkingOf(body.reasoning_effort),
    },
  };
}
