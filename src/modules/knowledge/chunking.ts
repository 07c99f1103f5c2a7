import { RecursiveCharacterTextSplitter } from '@langchain/textsplitters';

export interface Chunk {
  /** 0-based order within the document. */
  position: number;
  /** The headings the passage sits under, outermost first. */
  headingPath: string[];
  content: string;
}

export interface ChunkingOptions {
  /** Characters per chunk at most. */
  size: number;
  /** Characters a chunk repeats from the end of the one before it. */
  overlap: number;
}

export const defaultChunking: ChunkingOptions = { size: 1_200, overlap: 150 };

const heading = /^(#{1,6})[ \t]+(.+?)[ \t#]*$/;

interface Section {
  headingPath: string[];
  text: string;
}

/** Cuts a text at its Markdown headings (outside code fences), remembering the heading path of each part. */
function sections(text: string): Section[] {
  const found: Section[] = [];
  const path: string[] = [];
  let lines: string[] = [];
  let inFence = false;
  const flush = () => {
    const body = lines.join('\n').trim();
    if (body) found.push({ headingPath: [...path], text: body });
    lines = [];
  };
  for (const line of text.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const match = inFence ? null : heading.exec(line);
    if (!match) {
      lines.push(line);
      continue;
    }
    flush();
    const level = match[1]!.length;
    path.splice(level - 1);
    while (path.length < level - 1) path.push('');
    path.push(match[2]!);
  }
  flush();
  return found.map((section) => ({ ...section, headingPath: section.headingPath.filter(Boolean) }));
}

/**
 * Passages for the index: sections by heading, then paragraphs, lines,
 * sentences and words (LangChain's recursive splitter), each overlapping the
 * one before it.
 */
export async function chunkText(text: string, options: ChunkingOptions = defaultChunking): Promise<Chunk[]> {
  const splitter = new RecursiveCharacterTextSplitter({
    chunkSize: options.size,
    chunkOverlap: options.overlap,
    separators: ['\n\n', '\n', '. ', '? ', '! ', '; ', ', ', ' ', ''],
    keepSeparator: true,
  });
  const chunks: Chunk[] = [];
  for (const section of sections(text)) {
    for (const piece of await splitter.splitText(section.text)) {
      const content = piece.trim();
      if (content) chunks.push({ position: chunks.length, headingPath: section.headingPath, content });
    }
  }
  return chunks;
}
