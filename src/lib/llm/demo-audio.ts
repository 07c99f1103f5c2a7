/**
 * The demo provider's speech: a WAV file (8 kHz, 16-bit mono) holding a soft
 * tone as long as the text takes to say, with the text itself in the file's
 * INFO comment, so the demo's transcription can read it back exactly.
 */
const SAMPLE_RATE = 8_000;
const SECONDS_PER_WORD = 0.4;

function chunk(id: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, 'ascii');
  header.writeUInt32LE(data.length, 4);
  // RIFF chunks are padded to an even length.
  return Buffer.concat([header, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

export function demoSpeech(text: string): Buffer {
  const words = Math.max(1, text.split(/\s+/).filter(Boolean).length);
  const samples = Math.round(words * SECONDS_PER_WORD * SAMPLE_RATE);
  const pcm = Buffer.alloc(samples * 2);
  for (let index = 0; index < samples; index += 1) pcm.writeInt16LE(Math.round(3_000 * Math.sin((2 * Math.PI * 440 * index) / SAMPLE_RATE)), index * 2);
  const format = Buffer.alloc(16);
  format.writeUInt16LE(1, 0); // PCM
  format.writeUInt16LE(1, 2); // mono
  format.writeUInt32LE(SAMPLE_RATE, 4);
  format.writeUInt32LE(SAMPLE_RATE * 2, 8);
  format.writeUInt16LE(2, 12);
  format.writeUInt16LE(16, 14);
  const comment = chunk('ICMT', Buffer.from(`${text}\0`, 'utf8'));
  const info = chunk('LIST', Buffer.concat([Buffer.from('INFO', 'ascii'), comment]));
  const body = Buffer.concat([Buffer.from('WAVE', 'ascii'), chunk('fmt ', format), info, chunk('data', pcm)]);
  return Buffer.concat([chunk('RIFF', body).subarray(0, 8), body]);
}

/** What the demo "hears": the text a demo WAV carries, and its length in seconds. */
export function demoHear(audio: Buffer): { text: string; seconds: number } {
  let text = '';
  let seconds = audio.length / 4_000;
  if (audio.toString('ascii', 0, 4) === 'RIFF' && audio.toString('ascii', 8, 12) === 'WAVE') {
    let offset = 12;
    let byteRate = 0;
    while (offset + 8 <= audio.length) {
      const id = audio.toString('ascii', offset, offset + 4);
      const size = audio.readUInt32LE(offset + 4);
      const data = audio.subarray(offset + 8, offset + 8 + size);
      if (id === 'fmt ') byteRate = data.readUInt32LE(8);
      if (id === 'data' && byteRate > 0) seconds = size / byteRate;
      if (id === 'LIST' && data.toString('ascii', 0, 4) === 'INFO') {
        const at = data.indexOf('ICMT', 4, 'ascii');
        if (at >= 0)
          text = data
            .subarray(at + 8, at + 8 + data.readUInt32LE(at + 4))
            .toString('utf8')
            .replace(/\0+$/, '');
      }
      offset += 8 + size + (size % 2);
    }
  }
  return { text: text || `[${seconds.toFixed(1)} seconds of audio]`, seconds };
}
