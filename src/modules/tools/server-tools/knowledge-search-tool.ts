import type { KnowledgeService } from '../../knowledge/knowledge.service.js';
import { type ServerTool, stringArgument } from './server-tool.js';

const MAX_HITS = 5;

/** Meaning-and-words search over every knowledge collection of the caller. */
export function knowledgeSearchTool(knowledge: KnowledgeService): ServerTool {
  return {
    name: 'knowledge_search',
    description: "Searches the caller's knowledge collections and returns the most relevant passages with their headings.",
    parameters: {
      type: 'object',
      properties: { query: { type: 'string', description: 'What to look for.' } },
      required: ['query'],
    },
    available: () => true,
    async run(args, { actor }) {
      const query = stringArgument(args, 'query');
      const collections = await knowledge.list(actor);
      if (collections.length === 0) return 'The caller has no knowledge collections.';
      const hits = await knowledge.search(actor, query, { collectionIds: collections.map((collection) => collection.id), first: MAX_HITS });
      if (hits.length === 0) return 'No passages found.';
      return hits
        .map((hit) => {
          const heading = hit.headingPath.length > 0 ? ` (${hit.headingPath.join(' › ')})` : '';
          return `[${hit.rank}]${heading}\n${hit.content}`;
        })
        .join('\n\n');
    },
  };
}
