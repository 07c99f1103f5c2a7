import { hasFeature } from '../../identity/tiers.js';
import type { WebSearch } from '../../search/web-search.js';
import { type ServerTool, stringArgument } from './server-tool.js';

/** The configured SearXNG-compatible engine, for callers whose tier has the web_search feature. */
export function webSearchTool(webSearch: WebSearch): ServerTool {
  return {
    name: 'web_search',
    description: 'Searches the web and returns the top results (title, address and snippet).',
    parameters: {
      type: 'object',
      properties: { query: { type: 'string', description: 'What to search for.' } },
      required: ['query'],
    },
    available: ({ actor }) => webSearch.available && hasFeature(actor.tier, 'web_search'),
    async run(args, _context, signal) {
      const results = await webSearch.search(stringArgument(args, 'query'), signal);
      if (results.length === 0) return 'No results.';
      return results.map((result, index) => `[${index + 1}] ${result.title}\n${result.url}\n${result.snippet}`).join('\n\n');
    },
  };
}
