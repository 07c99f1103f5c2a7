import { countTokens as countO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { countTokens as countCl100k } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * Token counts for budgeting and for replies whose provider sent no usage.
 * o200k is exact for the GPT-4o/4.1/5 and o-series families and cl100k for
 * older OpenAI models; other vendors' tokenizers are not public or not shipped
 * as JS, so o200k stands in for them as an approximation (within ~10-15% on
 * English text).
 */
export function countTokens(text: string, modelId = ''): number {
  if (!text) return 0;
  const count = /^(gpt-3\.5|gpt-4(?!o|\.)|text-embedding)/.test(modelId) ? countCl100k : countO200k;
  if (text.length <= CHUNK) return count(text);
  // BPE merging slows down badly on very long runs without spaces (a 200 KB
  // upload of one "word" took seconds), so long texts are counted in chunks cut
  // at whitespace; a cut inside a word adds at most a token or two per chunk.
  // The search for a space looks back a bounded window only: scanning back to
  // the start of the text from every boundary made a text without spaces cost
  // quadratic time (8 MB took seconds).
  let total = 0;
  for (let start = 0; start < text.length; ) {
    const end = chunkEnd(text, start);
    total += count(text.slice(start, end));
    start = end;
  }
  return total;
}

const CHUNK = 4_000;
/** How far back from a chunk's hard end a space is looked for. */
const BREAK_WINDOW = CHUNK / 2;

/** Where the chunk starting at `start` ends: at the last space in its final window, else at the hard limit. */
function chunkEnd(text: string, start: number): number {
  const hard = start + CHUNK;
  if (hard >= text.length) return text.length;
  for (let index = hard, floor = hard - BREAK_WINDOW; index > floor; index--) {
    if (text.charCodeAt(index) === 32) return index;
  }
  return hard;
}

/** Per-message framing overhead of chat formats (role markers, separators). */
export const TOKENS_PER_MESSAGE = 3;
