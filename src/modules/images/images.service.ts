import { v7 as uuidv7 } from 'uuid';
import type { PrismaClient, UploadedFile } from '../../generated/prisma/client.js';
import { badInput, notFound } from '../../lib/errors.js';
import { providerFailure } from '../../lib/llm/provider-errors.js';
import type { ProviderRegistry } from '../../lib/llm/provider-registry.js';
import type { CatalogService } from '../catalog/catalog.service.js';
import type { CatalogModel } from '../catalog/catalog.types.js';
import type { CreditsService } from '../credits/credits.service.js';
import type { FilesService } from '../files/files.service.js';
import type { Actor } from '../identity/actor.js';
import type { UsageService } from '../usage/usage.service.js';

export const MAX_IMAGES = 4;
const MAX_PROMPT = 4_000;
const SIZE = /^(auto|\d{3,4}x\d{3,4})$/;

export interface ImageRequest {
  prompt: string;
  model?: string | null;
  size?: string | null;
  count?: number | null;
  conversationId?: string | null;
}

export interface ImageResult {
  images: UploadedFile[];
  model: CatalogModel;
  cost: number;
  revisedPrompt: string | null;
}

export interface ImagesDeps {
  prisma: PrismaClient;
  catalog: CatalogService;
  registry: ProviderRegistry;
  credits: CreditsService;
  files: FilesService;
  usage: UsageService;
}

function checked(request: ImageRequest) {
  const prompt = request.prompt.trim();
  if (prompt.length < 1 || prompt.length > MAX_PROMPT) throw badInput('image.prompt', { max: MAX_PROMPT });
  const count = request.count ?? 1;
  if (!Number.isInteger(count) || count < 1 || count > MAX_IMAGES) throw badInput('image.count', { max: MAX_IMAGES });
  if (request.size && !SIZE.test(request.size)) throw badInput('image.size', { size: request.size });
  return { prompt, count, size: request.size ?? undefined };
}

/** Images from an image model through the openai SDK, kept as the caller's files; credits are reserved first and settled per image kept. */
export function createImagesService(deps: ImagesDeps) {
  const { prisma } = deps;

  async function conversationFor(actor: Actor, conversationId: string) {
    const conversation = await prisma.conversation.findFirst({ where: { id: conversationId, ownerId: actor.userId } });
    if (!conversation) throw notFound('Conversation', conversationId);
    if (conversation.privacy !== 'PUBLIC') throw badInput('encryption.noFiles');
    return conversation;
  }

  async function callProvider(model: CatalogModel, prompt: string, count: number, size: string | undefined) {
    const client = deps.registry.clientFor(model.provider)!;
    // gpt-image models always answer base64 and refuse response_format; DALL·E answers URLs unless asked.
    const format = model.id.startsWith('gpt-image') ? {} : { response_format: 'b64_json' as const };
    const response = await client.images.generate({ model: model.id, prompt, n: count, ...(size ? { size: size as never } : {}), ...format });
    const images = (response.data ?? []).flatMap((image) =>
      image.b64_json ? [{ bytes: Buffer.from(image.b64_json, 'base64'), revised: image.revised_prompt }] : [],
    );
    return { images: images.slice(0, count), revisedPrompt: images.find((image) => image.revised)?.revised ?? null };
  }

  async function keep(actor: Actor, images: Array<{ bytes: Buffer }>, conversationId: string | null): Promise<UploadedFile[]> {
    const files: UploadedFile[] = [];
    try {
      for (const [index, image] of images.entries()) files.push(await deps.files.saveGenerated(actor, image.bytes, `image-${index + 1}.png`, conversationId));
      return files;
    } catch (error) {
      await deps.files.remove(
        actor,
        files.map((file) => file.id),
      );
      throw error;
    }
  }

  /** The prompt and the images as a turn of the conversation, so its history shows them. */
  async function addToConversation(conversationId: string, model: CatalogModel, prompt: string, revisedPrompt: string | null, files: UploadedFile[]) {
    const last = await prisma.message.findFirst({ where: { conversationId }, orderBy: { position: 'desc' }, select: { id: true } });
    await prisma.$transaction(async (transaction) => {
      const question = await transaction.message.create({ data: { conversationId, role: 'USER', content: prompt, parentId: last?.id ?? null } });
      await transaction.message.create({
        data: {
          conversationId,
          role: 'ASSISTANT',
          content: revisedPrompt ?? '',
          modelId: model.id,
          parentId: question.id,
          status: 'COMPLETE',
          completedAt: new Date(),
          attachments: { create: files.map((file) => ({ fileId: file.id })) },
        },
      });
      await transaction.conversation.update({ where: { id: conversationId }, data: { updatedAt: new Date() } });
    });
  }

  return {
    async generate(actor: Actor, request: ImageRequest): Promise<ImageResult> {
      const { prompt, count, size } = checked(request);
      const model = deps.catalog.requireImageModel(request.model, actor.tier);
      const conversation = request.conversationId ? await conversationFor(actor, request.conversationId) : null;
      const pricePerImage = model.imagePrice ?? 0;
      const reference = `image:${uuidv7()}`;
      const reserved = deps.credits.creditsFor(pricePerImage * count);
      await deps.credits.reserve(prisma, actor.billedUserId, reserved, reference);
      const started = Date.now();
      let made: Awaited<ReturnType<typeof callProvider>>;
      let files: UploadedFile[];
      try {
        made = await callProvider(model, prompt, count, size);
        files = await keep(actor, made.images, conversation?.id ?? null);
      } catch (error) {
        await deps.credits.settle(actor.billedUserId, reserved, 0, reference);
        await deps.usage.record({ actor, modelId: model.id, action: 'IMAGE', cost: 0, success: false, latencyMs: Date.now() - started });
        throw providerFailure(error);
      }
      const cost = pricePerImage * files.length;
      await deps.credits.settle(actor.billedUserId, reserved, deps.credits.creditsFor(cost), reference);
      await deps.usage.record({ actor, modelId: model.id, action: 'IMAGE', cost, success: files.length > 0, latencyMs: Date.now() - started });
      if (conversation) await addToConversation(conversation.id, model, prompt, made.revisedPrompt, files);
      return { images: files, model, cost, revisedPrompt: made.revisedPrompt };
    },
  };
}

export type ImagesService = ReturnType<typeof createImagesService>;
