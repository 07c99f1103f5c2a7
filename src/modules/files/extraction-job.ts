import { type ErrorCode, type MessageParams, UserFacingError } from '../../lib/errors.js';
import { countTokens } from '../../lib/tokens.js';
import type { FileKind } from './file-types.js';
import { type ExtractionLimits, extractText } from './text-extraction.js';

export interface ExtractionJob {
  bytes: Uint8Array;
  kind: FileKind;
  limits: ExtractionLimits;
}

/** A file's text and its token count; null for images, which have no text. */
export interface Extracted {
  text: string | null;
  tokenCount: number | null;
}

export async function extractAndCount({ bytes, kind, limits }: ExtractionJob): Promise<Extracted> {
  const text = await extractText(bytes, kind, limits);
  return { text, tokenCount: text === null ? null : countTokens(text) };
}

/** What a worker thread sends back: the result, a refusal to show the user, or a failure. */
export type JobReply =
  | { ok: Extracted }
  | { refused: { code: ErrorCode; messageKey: string; params: MessageParams; extensions: Record<string, unknown> } }
  | { failed: string };

export async function runJob(job: ExtractionJob): Promise<JobReply> {
  try {
    return { ok: await extractAndCount(job) };
  } catch (error) {
    if (error instanceof UserFacingError) {
      const { code, messageKey, params, extensions } = error;
      return { refused: { code, messageKey, params, extensions } };
    }
    return { failed: error instanceof Error ? error.message : String(error) };
  }
}
