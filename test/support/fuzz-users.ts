import { encodeGlobalId } from '../../src/graphql/global-id.js';
import { eventually, type Caller, type Gateway } from './harness.js';

/** A user with one of every object the API lets a user own, and those objects' global ids. */
export interface SeededUser {
  caller: Caller & { id: string };
  ids: string[];
}

const CHAT = `mutation ($input: SendMessageInput!) { chat(input: $input) { conversation { id } userMessage { id } replies { id } } }`;
const UPLOAD = `mutation ($file: File!, $conversationId: ID) { uploadFile(file: $file, conversationId: $conversationId) { id } }`;

function dataOf(result: { data?: any; errors?: unknown[] }, what: string): any {
  if (result.errors || !result.data) throw new Error(`seeding ${what} failed: ${JSON.stringify(result.errors)}`);
  return result.data;
}

export async function seededUser(gateway: Gateway, label: string): Promise<SeededUser> {
  const caller = await gateway.user({ tier: 'ENTERPRISE', credits: 10_000_000 });
  const chat = dataOf(await caller.execute(CHAT, { input: { content: `hello from ${label}` } }), 'chat').chat;
  const conversationId: string = chat.conversation.id;
  const file = dataOf(
    await caller.upload(UPLOAD, { file: null, conversationId }, { file: new File([`notes of ${label}`], `${label}.txt`, { type: 'text/plain' }) }),
    'file',
  );
  const template = dataOf(
    await caller.execute('mutation ($input: TemplateInput!) { createTemplate(input: $input) { id } }', {
      input: { name: `${label}_template`, displayName: label, systemPrompt: `You help ${label}.` },
    }),
    'template',
  );
  const memory = dataOf(
    await caller.execute('mutation ($content: String!) { createMemory(content: $content) { id } }', { content: `${label} likes tea` }),
    'memory',
  );
  const feedback = dataOf(
    await caller.execute('mutation ($input: FeedbackInput!) { submitFeedback(input: $input) { id } }', {
      input: { messageId: chat.replies[0].id, kind: 'RATING', value: 1 },
    }),
    'feedback',
  );
  const batch = dataOf(
    await caller.execute('mutation ($input: BatchInput!) { submitBatch(input: $input) { id } }', {
      input: { model: 'fake-a', requests: [{ customId: 'one', content: `batch of ${label}` }] },
    }),
    'batch',
  );
  const batchId: string = batch.submitBatch.id;
  // The batch runs in the background; wait for it so the snapshot of the user's rows stays still.
  await eventually(async () => {
    const result = await caller.execute('query ($id: ID!) { batchJob(id: $id) { status } }', { id: batchId });
    return ['COMPLETED', 'FAILED'].includes(result.data?.batchJob?.status);
  }, 15_000);
  const apiKey = await gateway.app.services.admin.createApiKey(caller.id, { name: `${label} second key` });
  const ids = [
    encodeGlobalId('User', caller.id),
    conversationId,
    chat.userMessage.id,
    ...chat.replies.map((reply: { id: string }) => reply.id),
    file.uploadFile.id,
    template.createTemplate.id,
    memory.createMemory.id,
    feedback.submitFeedback.id,
    batchId,
    encodeGlobalId('ApiKey', apiKey.id),
  ];
  return { caller, ids };
}

/** Every row the user owns, as stored: compared before and after the run, it shows any change made by someone else. */
export async function snapshotOf(gateway: Gateway, userId: string): Promise<string> {
  const { prisma } = gateway.app.services.db;
  const owned = { where: { ownerId: userId }, orderBy: { id: 'asc' as const } };
  const byUser = { where: { userId }, orderBy: { id: 'asc' as const } };
  const rows = {
    user: await prisma.user.findUnique({ where: { id: userId } }),
    conversations: await prisma.conversation.findMany(owned),
    messages: await prisma.message.findMany({ where: { conversation: { ownerId: userId } }, orderBy: { id: 'asc' } }),
    apiKeys: await prisma.apiKey.findMany(owned),
    templates: await prisma.template.findMany(owned),
    feedback: await prisma.feedback.findMany(byUser),
    memories: await prisma.memory.findMany(byUser),
    files: await prisma.uploadedFile.findMany(owned),
    batchJobs: await prisma.batchJob.findMany(owned),
    voiceSettings: await prisma.voiceSettings.findMany({ where: { userId } }),
    ledger: await prisma.creditLedgerEntry.findMany(byUser),
  };
  return JSON.stringify(rows, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
}
