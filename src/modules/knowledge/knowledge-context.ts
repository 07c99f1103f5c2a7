import type { PrismaClient } from '../../generated/prisma/client.js';
import { countTokens } from '../../lib/tokens.js';
import type { Actor } from '../identity/actor.js';
import type { KnowledgeService } from './knowledge.service.js';

/** A passage a reply was given, numbered as the model was told to cite it. */
export interface ContextCitation {
  index: number;
  source: string;
  snippet: string;
  documentId: string;
}

/** Passages considered for one turn; fewer join when the budget runs out. */
const MAX_PASSAGES = 8;
const SNIPPET_CHARS = 300;

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim();

/** The system-prompt block the model reads: one line per numbered source. */
export function knowledgeBlock(citations: Array<ContextCitation & { content: string }>): string | undefined {
  if (citations.length === 0) return undefined;
  const lines = citations.map((citation) => `[source ${citation.index}: ${oneLine(citation.source).replace(/\]/g, ' ')}] ${oneLine(citation.content)}`);
  return ['[knowledge: answer from these sources when they help, and cite them by number, like [1]]', ...lines].join('\n');
}

/**
 * The most relevant passages of the given collections for a message, best
 * first, as many as fit `tokenBudget`; with the block that puts them in the
 * context and the citations the replies keep.
 */
export async function knowledgeForTurn(
  knowledge: KnowledgeService,
  prisma: PrismaClient,
  actor: Actor,
  input: { query: string; collectionIds: string[]; tokenBudget: number },
): Promise<{ citations: ContextCitation[]; block?: string }> {
  if (input.collectionIds.length === 0) return { citations: [] };
  const hits = await knowledge.search(actor, input.query.slice(0, 500), { collectionIds: input.collectionIds, first: MAX_PASSAGES });
  const documents = await prisma.knowledgeDocument.findMany({ where: { id: { in: hits.map((hit) => hit.documentId) } }, select: { id: true, source: true } });
  const chosen: Array<ContextCitation & { content: string }> = [];
  let tokens = 0;
  for (const hit of hits) {
    const cost = countTokens(hit.content) + 12;
    if (tokens + cost > input.tokenBudget) break;
    tokens += cost;
    const source = documents.find((document) => document.id === hit.documentId)?.source ?? 'unknown';
    const snippet = oneLine(hit.content);
    chosen.push({
      index: chosen.length + 1,
      source,
      snippet: snippet.length > SNIPPET_CHARS ? `${snippet.slice(0, SNIPPET_CHARS - 1)}…` : snippet,
      documentId: hit.documentId,
      content: hit.content,
    });
  }
  return { citations: chosen.map(({ content: _content, ...citation }) => citation), block: knowledgeBlock(chosen) };
}
