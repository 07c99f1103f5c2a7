import type { FilesService } from '../../files/files.service.js';
import type { KnowledgeService } from '../../knowledge/knowledge.service.js';
import type { MemoriesService } from '../../memories/memories.service.js';
import type { WebSearch } from '../../search/web-search.js';
import { fetchUrlTool } from './fetch-url-tool.js';
import { knowledgeSearchTool } from './knowledge-search-tool.js';
import { memoryTool } from './memory-tool.js';
import type { ServerTool, ServerToolContext } from './server-tool.js';
import { webSearchTool } from './web-search-tool.js';

export interface ServerToolDeps {
  webSearch: WebSearch;
  memories: MemoriesService;
  knowledge: KnowledgeService;
  files: FilesService;
}

/** Every server tool the gateway knows, in the order `serverTools` lists them. */
export function createServerToolRegistry(deps: ServerToolDeps) {
  const tools: ServerTool[] = [webSearchTool(deps.webSearch), knowledgeSearchTool(deps.knowledge), memoryTool(deps.memories), fetchUrlTool(deps.files)];
  const byName = new Map(tools.map((tool) => [tool.name, tool]));

  return {
    /** Each tool with whether this caller may use it. */
    list: (context: ServerToolContext) => tools.map((tool) => ({ tool, available: tool.available(context) })),
    get: (name: string) => byName.get(name),
  };
}

export type ServerToolRegistry = ReturnType<typeof createServerToolRegistry>;
