import DataLoader from 'dataloader';
import type { Conversation, PrismaClient } from '../../generated/prisma/client.js';
import { badInput, forbidden, notFound } from '../../lib/errors.js';
import type { Actor } from '../identity/actor.js';

export interface TemplateShape {
  id: string;
  name: string;
  displayName: string;
  description: string;
  systemPrompt: string;
  exampleUsage: string | null;
  builtIn: boolean;
}

export interface TemplateInput {
  name: string;
  displayName: string;
  description?: string | null;
  systemPrompt: string;
  exampleUsage?: string | null;
}

const builtIns: TemplateShape[] = [
  {
    name: 'standard_assistant',
    displayName: 'Standard Assistant',
    description: 'A general-purpose AI assistant',
    systemPrompt: 'You are a helpful, honest assistant. Answer clearly and concisely, and say when you are not sure.',
    exampleUsage: 'Explain how vaccines work.',
  },
  {
    name: 'expert_assistant',
    displayName: 'Expert Assistant',
    description: 'An expert-level AI assistant for specialized topics',
    systemPrompt:
      'You are an expert in {{domain}}. Give precise, technically rigorous answers, name your assumptions, and cite the standard references of {{domain}} where they help.',
    exampleUsage: 'templateVariables: { "domain": "tax law" }',
  },
  {
    name: 'customer_support_assistant',
    displayName: 'Customer Support',
    description: 'An assistant specialized in customer support interactions',
    systemPrompt:
      'You are a friendly customer support agent for {{company}}, helping customers with {{product}}. Be patient, ask for the details you need, and never promise what {{company}} has not announced.',
    exampleUsage: 'templateVariables: { "company": "Acme", "product": "the Acme Router" }',
  },
].map((template) => ({ ...template, id: `builtin:${template.name}`, builtIn: true }));

const builtInByName = new Map(builtIns.map((template) => [template.name, template]));
const namePattern = /^[a-z0-9_]{2,64}$/;
const placeholder = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function templateVariables(prompt: string): string[] {
  return [...new Set([...prompt.matchAll(placeholder)].map((match) => match[1]!))];
}

/** Fills `{{name}}` placeholders; every missing variable is named in one BAD_USER_INPUT. */
export function renderTemplate(template: Pick<TemplateShape, 'name' | 'systemPrompt'>, variables: unknown): string {
  const values = variables && typeof variables === 'object' && !Array.isArray(variables) ? (variables as Record<string, unknown>) : {};
  const missing = templateVariables(template.systemPrompt).filter((name) => values[name] === undefined || values[name] === null || values[name] === '');
  if (missing.length > 0)
    throw badInput('template.missingVariables', { template: template.name, variables: missing.join(', ') }, { missingVariables: missing });
  return template.systemPrompt.replace(placeholder, (_, name: string) => String(values[name]));
}

function validate(input: TemplateInput) {
  if (!namePattern.test(input.name)) throw badInput('template.badName', { name: input.name });
  if (builtInByName.has(input.name)) throw forbidden('template.builtIn', { name: input.name });
  if (!input.displayName.trim() || input.displayName.length > 100) throw badInput('template.displayName');
  if (!input.systemPrompt.trim() || input.systemPrompt.length > 20_000) throw badInput('template.prompt', { max: 20_000 });
}

export function createTemplatesService(prisma: PrismaClient) {
  const toShape = (row: {
    id: string;
    name: string;
    displayName: string;
    description: string;
    systemPrompt: string;
    exampleUsage: string | null;
  }): TemplateShape => ({
    ...row,
    builtIn: false,
  });

  async function find(ownerId: string, name: string): Promise<TemplateShape | null> {
    const builtIn = builtInByName.get(name);
    if (builtIn) return builtIn;
    const row = await prisma.template.findUnique({ where: { ownerId_name: { ownerId, name } } });
    return row ? toShape(row) : null;
  }

  async function require(actor: Actor, name: string): Promise<TemplateShape> {
    const template = await find(actor.userId, name);
    if (!template) throw notFound('Template', name);
    return template;
  }

  async function ownRow(actor: Actor, id: string) {
    if (id.startsWith('builtin:')) throw forbidden('template.builtIn', { name: id.slice('builtin:'.length) });
    const row = await prisma.template.findFirst({ where: { id, ownerId: actor.userId } });
    if (!row) throw notFound('Template', id);
    return row;
  }

  async function save(write: () => Promise<{ id: string }>, name: string) {
    try {
      return await write();
    } catch (error) {
      if ((error as { code?: string }).code === 'P2002') throw badInput('template.nameTaken', { name });
      throw error;
    }
  }

  return {
    find,

    /** Batches template look-ups of one operation (a page of conversations) into one query. */
    createLoader() {
      return new DataLoader<{ ownerId: string; name: string }, TemplateShape | null, string>(
        async (keys) => {
          const custom = keys.filter((key) => !builtInByName.has(key.name));
          const rows = custom.length ? await prisma.template.findMany({ where: { OR: custom.map((key) => ({ ownerId: key.ownerId, name: key.name })) } }) : [];
          const byKey = new Map(rows.map((row) => [`${row.ownerId}:${row.name}`, toShape(row)]));
          return keys.map((key) => builtInByName.get(key.name) ?? byKey.get(`${key.ownerId}:${key.name}`) ?? null);
        },
        { cacheKeyFn: (key) => `${key.ownerId}:${key.name}` },
      );
    },

    async list(actor: Actor): Promise<TemplateShape[]> {
      const own = await prisma.template.findMany({ where: { ownerId: actor.userId }, orderBy: { name: 'asc' } });
      return [...builtIns, ...own.map(toShape)];
    },
    async byId(actor: Actor | null, id: string): Promise<TemplateShape | null> {
      if (id.startsWith('builtin:')) return builtInByName.get(id.slice('builtin:'.length)) ?? null;
      if (!actor) return null;
      const row = await prisma.template.findFirst({ where: { id, ownerId: actor.userId } });
      return row ? toShape(row) : null;
    },
    async create(actor: Actor, input: TemplateInput) {
      validate(input);
      const row = await save(() => prisma.template.create({ data: { ...input, description: input.description ?? '', ownerId: actor.userId } }), input.name);
      return toShape(row as never);
    },
    async update(actor: Actor, id: string, input: TemplateInput) {
      await ownRow(actor, id);
      validate(input);
      const row = await save(() => prisma.template.update({ where: { id }, data: { ...input, description: input.description ?? '' } }), input.name);
      return toShape(row as never);
    },
    async delete(actor: Actor, id: string) {
      await ownRow(actor, id);
      await prisma.template.delete({ where: { id } });
      return true;
    },

    /**
     * The system prompt of a turn: the template (given now, or stored on the
     * conversation) rendered with its variables, then any explicit system prompt.
     */
    async systemPromptFor(
      actor: Actor,
      request: { templateName?: string | null; templateVariables?: unknown; systemPrompt?: string | null },
      conversation: Pick<Conversation, 'templateName' | 'templateVariables' | 'systemPrompt'> | null,
    ): Promise<string | null> {
      const name = request.templateName ?? conversation?.templateName;
      const variables = request.templateName ? request.templateVariables : conversation?.templateVariables;
      const rendered = name ? renderTemplate(await require(actor, name), variables) : null;
      const explicit = request.systemPrompt ?? conversation?.systemPrompt ?? null;
      return [rendered, explicit].filter(Boolean).join('\n\n') || null;
    },

    /** Checks the template renders, for storing on a conversation. */
    async validateChoice(actor: Actor, name: string, variables: unknown) {
      renderTemplate(await require(actor, name), variables);
    },
  };
}

export type TemplatesService = ReturnType<typeof createTemplatesService>;
