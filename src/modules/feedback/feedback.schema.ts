import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import type { Feedback } from '../../generated/prisma/client.js';
import { ConversationRef } from '../conversations/conversations.schema.js';
import { MessageRef } from '../conversations/messages.schema.js';

const FeedbackKindEnum = builder.enumType('FeedbackKind', { values: ['THUMBS_UP', 'THUMBS_DOWN', 'RATING'] as const });

export const FeedbackRef = builder.prismaNode('Feedback', {
  id: { field: 'id' },
  findUnique: (id, context) => ({ id, userId: context.actor?.userId ?? '' }),
  fields: (t) => ({
    message: t.relation('message'),
    kind: t.expose('kind', { type: FeedbackKindEnum }),
    value: t.exposeInt('value', { nullable: true }),
    status: t.exposeString('status', { nullable: true }),
    comment: t.string({ nullable: true, resolve: async (feedback, _args, context) => (feedback.comment ? context.open(feedback.comment) : null) }),
    details: t.expose('details', { type: 'JSON', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
  }),
});

const FeedbackInputRef = builder.inputType('FeedbackInput', {
  fields: (t) => ({
    messageId: t.globalID({ required: true, for: [MessageRef] }),
    kind: t.field({ type: FeedbackKindEnum, required: true }),
    value: t.int({ description: '1/-1 for thumbs (implied by kind when omitted), 1..5 for RATING.' }),
    status: t.string({ description: '"helpful", "incorrect", "inappropriate", ...' }),
    comment: t.string(),
    details: t.field({ type: 'JSON' }),
    secret: t.string({ description: 'The secret of an encrypted conversation (needed once encryption at rest is enabled for it).' }),
  }),
});

interface SummaryShape {
  conversationId: string;
  totalMessages: number;
  messagesWithFeedback: number;
  positive: number;
  negative: number;
  averageRating: number | null;
  details: Feedback[];
}

const FeedbackSummaryRef = builder.objectRef<SummaryShape>('FeedbackSummary').implement({
  fields: (t) => ({
    conversation: t.prismaField({
      type: 'Conversation',
      resolve: (query, summary, _args, context) =>
        context.services.db.prisma.conversation.findUniqueOrThrow({ ...query, where: { id: summary.conversationId } }),
    }),
    totalMessages: t.exposeInt('totalMessages', { description: 'Assistant replies in the conversation.' }),
    messagesWithFeedback: t.exposeInt('messagesWithFeedback'),
    positive: t.exposeInt('positive', { description: 'Thumbs up and ratings of 4 or 5.' }),
    negative: t.exposeInt('negative', { description: 'Thumbs down and ratings of 1 or 2.' }),
    averageRating: t.exposeFloat('averageRating', { nullable: true }),
    details: t.field({ type: [FeedbackRef], description: 'Newest first.', resolve: (summary) => summary.details }),
  }),
});

builder.prismaObjectField('Message', 'feedback', (t) =>
  t.field({
    type: FeedbackRef,
    nullable: true,
    description: "The caller's feedback, if any.",
    select: (_args, context) => ({ feedback: { where: { userId: context.actor?.userId ?? '' }, take: 1 } }),
    resolve: (message) => message.feedback[0] ?? null,
  }),
);

builder.queryField('feedbackSummary', (t) =>
  t.field({
    type: FeedbackSummaryRef,
    authScopes: { caller: true },
    args: { conversationId: t.arg.globalID({ required: true, for: [ConversationRef] }) },
    resolve: (_root, args, context) => context.services.feedback.summary(requireActor(context), args.conversationId.id),
  }),
);

builder.mutationField('submitFeedback', (t) =>
  t.field({
    type: FeedbackRef,
    description: 'One feedback per user per reply; submitting again updates it.',
    authScopes: { writer: true },
    args: { input: t.arg({ type: FeedbackInputRef, required: true }) },
    resolve: (_root, { input }, context) => {
      // The stored comment comes back in the answer, opened with the same secret.
      if (input.secret) context.useSecret(input.secret);
      return context.services.feedback.submit(requireActor(context), {
        ...input,
        messageId: input.messageId.id,
        secret: context.secret(),
      });
    },
  }),
);
