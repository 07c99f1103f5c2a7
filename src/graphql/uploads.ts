import type { Plugin } from 'graphql-yoga';
import { UserFacingError } from '../lib/errors.js';
import { graphqlErrorFrom } from './errors.js';

/**
 * The multipart parser stops reading an upload as soon as it passes the limit
 * (nothing is buffered beyond it and nothing is stored); this turns its plain
 * error into PAYLOAD_TOO_LARGE (HTTP 413) with a localized message.
 */
export function useUploadLimits(limits: { maxFileBytes: number; maxFilesPerRequest: number }): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (incoming) => {
        try {
          return await requestParser(incoming);
        } catch (error) {
          const message = (error as { message?: string }).message ?? '';
          const language = request.headers.get('accept-language') ?? undefined;
          if (message.includes('File size limit exceeded')) {
            throw graphqlErrorFrom(
              new UserFacingError('PAYLOAD_TOO_LARGE', 'files.tooLarge', { limit: limits.maxFileBytes }, { limit: limits.maxFileBytes }),
              language,
            );
          }
          if (message.includes('Files limit exceeded')) {
            throw graphqlErrorFrom(
              new UserFacingError('PAYLOAD_TOO_LARGE', 'files.tooMany', { limit: limits.maxFilesPerRequest }, { limit: limits.maxFilesPerRequest }),
              language,
            );
          }
          throw error;
        }
      });
    },
  };
}
