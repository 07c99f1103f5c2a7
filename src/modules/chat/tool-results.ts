import type { Message, PrismaClient } from '../../generated/prisma/client.js';
import type { Config } from '../../lib/config.js';
import { badInput } from '../../lib/errors.js';
import type { ConversationAccessService } from '../encryption/conversation-access.js';
import type { Actor } from '../identity/actor.js';
import type { MemoriesService } from '../memories/memories.service.js';
import type { TemplatesService } from '../templates/templates.service.js';
import type { ToolRun, ToolSetup } from '../tools/tool-setup.js';
import { branchEndingAt, buildChatMessages, type StoredTurn } from './context-builder.js';
import type { ToolCallData } from './message-events.js';
import { awaitingResults, type MessageStore } from './message-store.js';
import type { ReplyRunner } from './reply-runner.js';
import type { TurnAdmission } from './turn-admission.js';
import type { TurnContext } from './turn-context.js';
import { type PlanSettings, planWithFallbacks, privacyOf, resolveModels } from './turn-plan.js';
import { withTools } from './tool-plan.js';

export interface ToolResultInput {
  toolCallId: string;
  output: string;
  isError?: boolean | null;
}

export interface ToolResultsDeps {
  prisma: PrismaClient;
  config: Config;
  settings: PlanSettings;
  store: MessageStore;
  context: TurnContext;
  runner: ReplyRunner;
  admission: TurnAdmission;
  access: ConversationAccessService;
  templates: TemplatesService;
  memories: MemoriesService;
  prepareTools(actor: Actor, setup: { tools?: ToolSetup['clientTools']; serverTools?: string[]; toolChoice?: ToolSetup['toolChoice'] }): ToolRun | undefined;
}

const notAwaiting = () => badInput('tools.notAwaiting', {}, { reason: 'NOT_AWAITING_TOOL_RESULTS' });

/** The waiting reply's calls with the caller's results; every call still without one must be answered, once. */
function answer(calls: ToolCallData[], results: ToolResultInput[], maxChars: number): ToolCallData[] {
  const pending = new Set(calls.filter((call) => call.result === null || call.result === undefined).map((call) => call.id));
  const given = new Map<string, ToolResultInput>();
  for (const result of results) {
    if (!pending.has(result.toolCallId)) throw badInput('tools.unknownCall', { id: result.toolCallId.slice(0, 80) }, { reason: 'UNKNOWN_TOOL_CALL' });
    if (given.has(result.toolCallId)) throw badInput('tools.duplicateResult', { id: result.toolCallId }, { reason: 'DUPLICATE_TOOL_RESULT' });
    given.set(result.toolCallId, result);
  }
  const missing = [...pending].filter((id) => !given.has(id));
  if (missing.length > 0) throw badInput('tools.missingResults', { ids: missing.join(', ') }, { reason: 'MISSING_TOOL_RESULTS', missing });
  return calls.map((call) => {
    const result = given.get(call.id);
    return result ? { ...call, result: result.output.slice(0, maxChars), isError: Boolean(result.isError) } : call;
  });
}

/** The replies from the question to the waiting one (a reply answered with results goes on in a child reply), and the question. */
function chainTo<T extends StoredTurn>(turns: T[], replyId: string): { question: T | undefined; chain: T[] } {
  const byId = new Map(turns.map((turn) => [turn.id, turn]));
  const chain: T[] = [];
  let current = byId.get(replyId);
  while (current && current.role === 'ASSISTANT' && !chain.includes(current)) {
    chain.unshift(current);
    current = current.parentId ? byId.get(current.parentId) : undefined;
  }
  return { question: current?.role === 'USER' ? current : undefined, chain };
}

/** submitToolResults: the caller answers a waiting reply's client calls, and the model goes on in a new reply of the same turn. */
export function createToolResults(deps: ToolResultsDeps) {
  const { store, settings } = deps;

  async function submit(actor: Actor, messageId: string, results: ToolResultInput[]): Promise<Message> {
    const waiting = await store.ownedMessage(actor, messageId);
    if (waiting.status !== awaitingResults) throw notAwaiting();
    const answered = answer(waiting.toolCalls as unknown as ToolCallData[], results, deps.config.tools.outputMaxChars);
    const setup = (waiting.toolSetup ?? { clientTools: [], serverTools: [] }) as unknown as ToolSetup;
    const tools = deps.prepareTools(actor, { tools: setup.clientTools, serverTools: setup.serverTools, toolChoice: setup.toolChoice });
    const model = resolveModels(settings, [waiting.modelId ?? settings.catalog.defaultModelId], actor)[0]!;
    const conversation = await store.ownedConversation(actor, waiting.conversationId);
    const access = await deps.access.forPrivacy(actor, privacyOf([model], conversation), null);
    await deps.admission.countRequest(actor);
    const { readable: turns } = await deps.context.storedTurns(conversation.id, access);
    const { question, chain } = chainTo(turns, waiting.id);
    if (!question) throw notAwaiting();
    const afterUser: StoredTurn[] = chain.map((turn) => (turn.id === waiting.id ? { ...turn, toolCalls: answered } : turn));
    const questionFiles = await deps.prisma.uploadedFile.findMany({ where: { attachments: { some: { messageId: question.id } } } });
    const messages = buildChatMessages({
      systemPrompt: await deps.templates.systemPromptFor(actor, {}, await deps.context.readableConversation(conversation, access)),
      memories: await deps.memories.relevantTo(actor, question.content),
      history: await deps.context.withFiles(branchEndingAt(turns, question.parentId), [model]),
      userContent: question.content,
      files: await deps.context.contextFiles(questionFiles),
      afterUser,
    });
    const planned = withTools(planWithFallbacks(settings, actor, model, messages, {}), tools);
    const reply = await store.insertReply(
      actor,
      {
        conversationId: conversation.id,
        modelId: model.id,
        parentId: waiting.id,
        reservation: planned.reservation,
        answers: { messageId: waiting.id, toolCalls: answered, notAwaiting },
      },
      deps.admission.freeAllowanceOf(actor),
      () => deps.admission.freeLimitExceeded(actor),
    );
    deps.runner.launch(actor, { conversationId: conversation.id, messageId: reply.id, questionId: question.id }, planned, access);
    return reply;
  }

  return { submit };
}
