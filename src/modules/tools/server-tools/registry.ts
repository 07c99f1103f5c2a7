import type { MemoriesService } from '../../memories/memories.service.js';
import type { WebSearch } from '../../search/web-search.js';
import { memoryTool } from './memory-tool.js';
import { notYetAvailable, type ServerTool, type ServerToolContext } from './server-tool.js';
import { webSearchTool } from './web-search-tool.js';

export interface ServerToolDeps {
  webSearch: WebSearch;
  memories: MemoriesService;
}

const queryParameters = (description: string) => ({
  type: 'object',
  properties: { query: { type: 'string', description } },
  required: ['query'],
});

/** Every server tool the gateway knows, in the order `serverTools` lists them. */
export function createServerToolRegistry(deps: ServerToolDeps) {
  const tools: ServerTool[] = [
    webSearchTool(deps.webSearch),
    notYetAvailable('knowledge_search', "Searches the caller's knowledge collections.", queryParameters('What to look for.')),
    memoryTool(deps.memories),
    notYetAvailable('fetch_url', 'Fetches a web page or document from an allow-listed address.', {
      type: 'object',
      properties: { url: { type: 'string', description: 'The address to fetch.' } },
      required: ['url'],
    }),
  ];
  const byName = new Map(tools.map((tool) => [tool.name, tool]));

  return {
    /** Each tool with whether this caller may use it. */
    list: (context: ServerToolContext) => tools.map((tool) => ({ tool, available: tool.available(context) })),
    get: (name: string) => byName.get(name),
  };
}

export type ServerToolRegistry = ReturnType<typeof createServerToolRegistry>;
