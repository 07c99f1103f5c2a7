/**
 * How the deterministic responder uses tools: it calls the functions the
 * last user message names (or the first one when a call is required), with
 * arguments made from their schemas, and answers tool results by quoting them.
 */
type Schema = { type?: string; enum?: unknown[]; properties?: Record<string, Schema> };
type WireTool = { type?: string; function?: { name?: string; parameters?: Schema } };
type WireMessage = {
  role: string;
  content: unknown;
  tool_call_id?: string;
  tool_calls?: Array<{ id?: string; function?: { name?: string } }>;
};

const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((part) => (typeof part?.text === 'string' ? part.text : '')).join('\n') : '';

const escaped = (name: string) => name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function valueFor(schema: Schema | undefined, text: string): unknown {
  if (schema?.enum?.length) return schema.enum[0];
  if (schema?.type === 'number' || schema?.type === 'integer') return 1;
  if (schema?.type === 'boolean') return true;
  if (schema?.type === 'object') return {};
  if (schema?.type === 'array') return [];
  return text;
}

function argumentsFor(parameters: Schema | undefined, text: string): string {
  const properties = parameters?.properties ?? {};
  return JSON.stringify(Object.fromEntries(Object.entries(properties).map(([name, schema]) => [name, valueFor(schema, text)])));
}

/** The calls the responder makes for this request: none once the last message is no longer the user's. */
export function demoToolCalls(body: { tools?: WireTool[]; tool_choice?: unknown; messages?: WireMessage[] }): Array<{ name: string; arguments: string }> {
  const tools = (body.tools ?? []).filter((tool) => tool.function?.name);
  const last = body.messages?.at(-1);
  if (tools.length === 0 || body.tool_choice === 'none' || last?.role !== 'user') return [];
  const text = textOf(last.content).trim();
  const named = tools.filter((tool) => new RegExp(`(^|[^\\w-])${escaped(tool.function!.name!)}($|[^\\w-])`).test(text));
  const chosen = named.length > 0 ? named : body.tool_choice === 'required' ? tools.slice(0, 1) : [];
  return chosen.map((tool) => ({ name: tool.function!.name!, arguments: argumentsFor(tool.function!.parameters, text) }));
}

/** "Tool results: name: result; ..." for the tool messages that end the request, or ''. */
export function toolResultsSentence(messages: WireMessage[]): string {
  const names = new Map<string, string>();
  for (const message of messages) for (const call of message.tool_calls ?? []) if (call.id) names.set(call.id, call.function?.name ?? 'tool');
  const results: string[] = [];
  for (let index = messages.length - 1; index >= 0 && messages[index]!.role === 'tool'; index -= 1) {
    const message = messages[index]!;
    const flat = textOf(message.content).replace(/\s+/g, ' ').trim();
    results.unshift(`${names.get(message.tool_call_id ?? '') ?? 'tool'}: "${flat.length > 120 ? `${flat.slice(0, 119)}…` : flat}"`);
  }
  return results.length ? `Tool results: ${results.join('; ')}.` : '';
}
