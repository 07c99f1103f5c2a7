import { createHash } from 'node:crypto';
import { PNG } from 'pngjs';

const CELLS = 8;

/**
 * The demo's picture of a prompt: an 8×8 grid of colours taken from the
 * prompt's SHA-256, with a frame, so the same prompt always draws the same
 * PNG and different prompts visibly differ. Offline and deterministic.
 */
export function demoImage(prompt: string, size = 256): Buffer {
  const side = Math.max(CELLS * 4, Math.min(1024, size - (size % CELLS)));
  const digest = createHash('sha256').update(prompt).digest();
  const png = new PNG({ width: side, height: side });
  const cell = side / CELLS;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const index = Math.floor(y / cell) * CELLS + Math.floor(x / cell);
      const frame = x < 4 || y < 4 || x >= side - 4 || y >= side - 4;
      const offset = (y * side + x) * 4;
      const byte = digest[index % digest.length]!;
      png.data[offset] = frame ? 40 : byte;
      png.data[offset + 1] = frame ? 40 : (byte * 7 + index * 13) % 256;
      png.data[offset + 2] = frame ? 40 : (byte * 3 + 128) % 256;
      png.data[offset + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

/** The side of a square image from an OpenAI size such as "1024x1024" (the demo draws squares). */
const sideOf = (size: string | undefined) => Number(/^(\d+)x\d+$/.exec(size ?? '')?.[1] ?? 256);

/** Status and body of an OpenAI images/generations answer: `n` copies of the prompt's picture, base64; a 400 without a prompt. */
export function demoImageGeneration(body: { prompt?: unknown; n?: unknown; size?: unknown }, created: number): [number, unknown] {
  const prompt = String(body.prompt ?? '');
  if (!prompt) return [400, { error: { message: 'prompt is required', type: 'invalid_request_error' } }];
  const count = Math.max(1, Number(body.n ?? 1));
  const image = demoImage(prompt, Math.min(512, sideOf(typeof body.size === 'string' ? body.size : undefined))).toString('base64');
  return [200, { created, data: Array.from({ length: count }, () => ({ b64_json: image, revised_prompt: `A demo picture of: ${prompt}` })) }];
}
