import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { MessageRef } from '../conversations/messages.schema.js';
import type { ServerTool } from './server-tools/server-tool.js';

export const ToolChoiceEnum = builder.enumType('ToolChoice', {
  values: {
    AUTO: { description: 'The model decides whether to call a tool.' },
    NONE: { description: 'The model answers without calling any.' },
    REQUIRED: { description: 'The model must call at least one tool first.' },
  } as const,
});

export const ToolDefinitionInput = builder.inputType('ToolDefinitionInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Letters, digits, "_" and "-", at most 64.' }),
    description: t.string(),
    parameters: t.field({ type: 'JSON', description: 'JSON Schema of the arguments.' }),
  }),
});

const ToolResultInput = builder.inputType('ToolResultInput', {
  fields: (t) => ({
    toolCallId: t.id({ required: true }),
    output: t.string({ required: true }),
    isError: t.boolean({ description: 'The call failed; the output says why.' }),
  }),
});

const ServerToolRef = builder.objectRef<{ tool: ServerTool; available: boolean }>('ServerTool').implement({
  description: 'A tool the gateway runs itself; name it in SendMessageInput.serverTools.',
  fields: (t) => ({
    name: t.string({ resolve: ({ tool }) => tool.name }),
    description: t.string({ resolve: ({ tool }) => tool.description }),
    parameters: t.field({ type: 'JSON', resolve: ({ tool }) => tool.parameters }),
    available: t.boolean({ description: "Whether the caller's tier and the configuration allow it.", resolve: ({ available }) => available }),
  }),
});

builder.queryField('serverTools', (t) =>
  t.field({
    type: [ServerToolRef],
    authScopes: { caller: true },
    resolve: (_root, _args, context) => context.services.chat.serverTools(requireActor(context)),
  }),
);

builder.mutationField('submitToolResults', (t) =>
  t.field({
    type: MessageRef,
    description: 'Answers the tool calls of a reply that ended REQUIRES_ACTION; the model goes on in a new reply, streamed like sendMessage.',
    authScopes: { chatter: true },
    args: {
      messageId: t.arg.globalID({ required: true, for: [MessageRef] }),
      results: t.arg({ type: [ToolResultInput], required: true }),
    },
    resolve: (_root, args, context) => context.services.chat.submitToolResults(requireActor(context), args.messageId.id, args.results),
  }),
);
