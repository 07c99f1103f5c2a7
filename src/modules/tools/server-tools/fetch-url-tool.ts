import type { FilesService } from '../../files/files.service.js';
import { type ServerTool, stringArgument } from './server-tool.js';

/** The text of a page or document at an allow-listed address, fetched under the same rules as file URLs. */
export function fetchUrlTool(files: FilesService): ServerTool {
  return {
    name: 'fetch_url',
    description: 'Fetches a web page or document (HTML, PDF, DOCX, text) from an allow-listed address and returns its text.',
    parameters: {
      type: 'object',
      properties: { url: { type: 'string', description: 'The address to fetch.' } },
      required: ['url'],
    },
    available: () => files.limits.urls.allowedHosts.length > 0,
    async run(args) {
      const { text, mimeType, finalUrl } = await files.fetchText(stringArgument(args, 'url'));
      if (text === null) return `${finalUrl} is ${mimeType}, which has no text to read.`;
      return text || `${finalUrl} has no text.`;
    },
  };
}
