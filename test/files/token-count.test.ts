import { countTokens as exactO200k } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, test } from 'vitest';
import { countTokens } from '../../src/lib/tokens.js';

const CHUNK = 4_000;
const prose = (length: number) => {
  const words = ['llamas', 'graze', 'on', 'the', 'high', 'plateau,', 'and', 'their', 'wool', 'is', 'sheared', 'each', 'spring.'];
  const parts: string[] = [];
  for (let index = 0, size = 0; size < length; index++) {
    const word = words[(index * 7) % words.length]!;
    parts.push(word);
    size += word.length + 1;
  }
  return parts.join(' ');
};

describe('countTokens', () => {
  test('short texts are counted exactly', () => {
    for (const text of ['Hello, llamas!', prose(3_000), 'x'.repeat(CHUNK)]) expect(countTokens(text)).toBe(exactO200k(text));
  });

  test('long prose is cut at spaces, so the count is exact', () => {
    const text = prose(200_000);
    expect(countTokens(text)).toBe(exactO200k(text));
  });

  test('8 MB without a space is counted in hard-cut chunks', () => {
    const unit = 'abcdefghij';
    const text = unit.repeat(800_000);
    // Every chunk is the same 4,000 characters, so the total is a multiple of one chunk's count.
    expect(countTokens(text)).toBe((text.length / CHUNK) * exactO200k(text.slice(0, CHUNK)));
  });

  test('a space far before a chunk boundary is not used as the cut', () => {
    // One space near the start, then a long run: the cut must not fall back to the space.
    const small = `a ${'b'.repeat(3 * CHUNK)}`;
    const expected = exactO200k(small.slice(0, CHUNK)) + exactO200k(small.slice(CHUNK, 2 * CHUNK)) + exactO200k(small.slice(2 * CHUNK));
    expect(countTokens(small)).toBe(expected);
  });

  test('a cut inside a word costs at most a token per chunk', () => {
    const text = 'Supercalifragilistic'.repeat(2_000);
    const exact = exactO200k(text);
    const chunked = countTokens(text);
    expect(Math.abs(chunked - exact)).toBeLessThanOrEqual(Math.ceil(text.length / CHUNK));
  });
});
