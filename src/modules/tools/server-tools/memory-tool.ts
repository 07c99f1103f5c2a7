import { hasFeature } from '../../identity/tiers.js';
import type { MemoriesService } from '../../memories/memories.service.js';
import { type ServerTool, stringArgument } from './server-tool.js';

/** Saves and recalls the caller's memories (the same ones the memories API manages, and charged like them). */
export function memoryTool(memories: MemoriesService): ServerTool {
  return {
    name: 'memory',
    description: "Saves something about the user to remember in later conversations, or recalls the user's saved memories that fit a query.",
    parameters: {
      type: 'object',
      properties: {
        action: { type: 'string', enum: ['save', 'recall'] },
        content: { type: 'string', description: 'save: what to remember. recall: what to look for.' },
      },
      required: ['action', 'content'],
    },
    available: ({ actor }) => hasFeature(actor.tier, 'memories'),
    async run(args, { actor }) {
      const content = stringArgument(args, 'content');
      if (args.action === 'save') {
        await memories.create(actor, content);
        return 'Saved.';
      }
      if (args.action !== 'recall') throw new Error('"action" must be "save" or "recall"');
      const found = await memories.relevantTo(actor, content);
      return found.length === 0 ? 'No memories.' : found.map((memory) => `- ${memory}`).join('\n');
    },
  };
}
