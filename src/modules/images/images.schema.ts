import { requireActor } from '../../context.js';
import { builder } from '../../graphql/builder.js';
import { ModelRef } from '../catalog/catalog.schema.js';
import { ConversationRef } from '../conversations/conversations.schema.js';
import { UploadedFileRef } from '../files/files.schema.js';
import type { ImageResult } from './images.service.js';

const GenerateImageInput = builder.inputType('GenerateImageInput', {
  fields: (t) => ({
    prompt: t.string({ required: true, description: '1..4000 characters.' }),
    model: t.id({ description: 'An image model (modality "image-output"); the first configured one, or demo-image, if omitted.' }),
    size: t.string({ description: 'As the provider takes it, e.g. "1024x1024" or "auto".' }),
    count: t.int({ description: 'Images to make, 1..4 (default 1).' }),
    conversationId: t.globalID({ for: [ConversationRef], description: 'The prompt and the images join this conversation as a turn.' }),
  }),
});

const ImageGenerationRef = builder.objectRef<ImageResult>('ImageGeneration').implement({
  fields: (t) => ({
    images: t.field({ type: [UploadedFileRef], resolve: (result) => result.images }),
    model: t.field({ type: ModelRef, resolve: (result) => result.model }),
    cost: t.exposeFloat('cost', { description: 'USD charged: the price per image times the images made.' }),
    revisedPrompt: t.exposeString('revisedPrompt', { nullable: true, description: 'The prompt as the model rewrote it, when it says.' }),
  }),
});

builder.mutationField('generateImage', (t) =>
  t.field({
    type: ImageGenerationRef,
    description: 'Images from an image model (gpt-image-1, dall-e-3, ...; the demo draws one offline), stored as files; charged per image.',
    authScopes: { chatter: true },
    args: { input: t.arg({ type: GenerateImageInput, required: true }) },
    resolve: (_root, { input }, context) =>
      context.services.images.generate(requireActor(context), {
        prompt: input.prompt,
        model: input.model ? String(input.model) : null,
        size: input.size,
        count: input.count,
        conversationId: input.conversationId?.id ?? null,
      }),
  }),
);
