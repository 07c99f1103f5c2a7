import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { ConversationRef } from '../conversations/conversations.schema.js';
import { templateVariables, type TemplateShape } from './templates.service.js';

export const TemplateRef = builder.node(builder.objectRef<TemplateShape>('Template'), {
  id: { resolve: (template) => template.id },
  loadOne: (id, context) => context.services.templates.byId(context.actor, id),
  isTypeOf: (value) => typeof value === 'object' && value !== null && 'systemPrompt' in value && 'builtIn' in value,
  fields: (t) => ({
    name: t.exposeString('name'),
    displayName: t.exposeString('displayName'),
    description: t.exposeString('description'),
    systemPrompt: t.exposeString('systemPrompt'),
    variables: t.stringList({ description: 'The {{placeholders}} of the system prompt.', resolve: (template) => templateVariables(template.systemPrompt) }),
    exampleUsage: t.exposeString('exampleUsage', { nullable: true }),
    builtIn: t.exposeBoolean('builtIn'),
  }),
});

const TemplateInputRef = builder.inputType('TemplateInput', {
  fields: (t) => ({
    name: t.string({ required: true, description: 'Lowercase letters, digits and underscores; unique among your templates.' }),
    displayName: t.string({ required: true }),
    description: t.string(),
    systemPrompt: t.string({ required: true, description: 'May hold {{variable}} placeholders.' }),
    exampleUsage: t.string(),
  }),
});

builder.prismaObjectField('Conversation', 'template', (t) =>
  t.field({
    type: TemplateRef,
    nullable: true,
    select: { templateName: true, ownerId: true },
    resolve: (conversation, _args, context) =>
      conversation.templateName ? context.loaders.template.load({ ownerId: conversation.ownerId, name: conversation.templateName }) : null,
  }),
);

builder.queryFields((t) => ({
  templates: t.field({
    type: [TemplateRef],
    description: 'The built-in templates and your own.',
    authScopes: { caller: true },
    resolve: (_root, _args, context) => context.services.templates.list(requireActor(context)),
  }),
  template: t.field({
    type: TemplateRef,
    nullable: true,
    authScopes: { caller: true },
    args: { name: t.arg.string({ required: true }) },
    resolve: (_root, args, context) => context.services.templates.find(requireActor(context).userId, args.name),
  }),
}));

builder.mutationFields((t) => ({
  createTemplate: t.field({
    type: TemplateRef,
    authScopes: { writer: true },
    args: { input: t.arg({ type: TemplateInputRef, required: true }) },
    resolve: (_root, { input }, context) => context.services.templates.create(requireActor(context), input),
  }),
  updateTemplate: t.field({
    type: TemplateRef,
    authScopes: { writer: true },
    args: { id: t.arg.globalID({ required: true, for: [TemplateRef] }), input: t.arg({ type: TemplateInputRef, required: true }) },
    resolve: (_root, { id, input }, context) => context.services.templates.update(requireActor(context), id.id, input),
  }),
  deleteTemplate: t.boolean({
    authScopes: { writer: true },
    args: { id: t.arg.globalID({ required: true, for: [TemplateRef] }) },
    resolve: (_root, { id }, context) => context.services.templates.delete(requireActor(context), id.id),
  }),
  setConversationTemplate: t.prismaField({
    type: 'Conversation',
    description: 'Changes the system prompt of the later turns of a conversation.',
    authScopes: { writer: true },
    args: {
      id: t.arg.globalID({ required: true, for: [ConversationRef] }),
      templateName: t.arg.string({ required: true }),
      variables: t.arg({ type: 'JSON' }),
    },
    resolve: (query, _root, args, context) =>
      context.services.conversations.setTemplate(requireActor(context), args.id.id, args.templateName, args.variables, query),
  }),
}));
