import type { Plugin } from 'graphql-yoga';
import { UserFacingError } from '../lib/errors.js';
import { graphqlErrorFrom } from './errors.js';

/** The largest multipart request as a whole (files and fields together). */
export const MAX_MULTIPART_BYTES = 25_000_000;

/**
 * The multipart parser stops reading an upload as soon as it passes the limit
 * (nothing is buffered beyond it and nothing is stored); this turns its plain
 * error, and Yoga's for a request past MAX_MULTIPART_BYTES, into
 * PAYLOAD_TOO_LARGE (HTTP 413) with a localized message.
 */
export function useUploadLimits(limits: { maxFileBytes: number; maxFilesPerRequest: number }): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      if (!requestParser) return;
      const tooLarge = () =>
        graphqlErrorFrom(
          new UserFacingError('PAYLOAD_TOO_LARGE', 'files.requestTooLarge', { limit: MAX_MULTIPART_BYTES }, { limit: MAX_MULTIPART_BYTES }),
          request.headers.get('accept-language') ?? undefined,
        );
      // Yoga refuses a declared length past the limit before any parser runs; this says it the gateway's way.
      if (Number(request.headers.get('content-length') ?? 0) > MAX_MULTIPART_BYTES) throw tooLarge();
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
          if (message === 'Request body too large') throw tooLarge();
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
