import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { marked, type Token, type Tokens } from 'marked';
import PDFDocument from 'pdfkit';

/** A conversation as it is exported: readable text only, already opened if it was encrypted. */
export interface ExportDocument {
  title: string;
  exportedAt: Date;
  messages: ExportMessage[];
}

export interface ExportMessage {
  id: string;
  role: 'USER' | 'ASSISTANT' | 'SYSTEM' | 'TOOL';
  content: string;
  model: string | null;
  status: string;
  createdAt: Date;
  /** PNG or JPEG bytes of images attached to the message, drawn into the PDF. */
  images: Array<{ filename: string; bytes: Buffer }>;
  attachments: string[];
}

const ROLE_LABELS: Record<ExportMessage['role'], string> = { USER: 'You', ASSISTANT: 'Assistant', SYSTEM: 'System', TOOL: 'Tool' };

const speaker = (message: ExportMessage) => (message.model ? `${ROLE_LABELS[message.role]} (${message.model})` : ROLE_LABELS[message.role]);

export function renderMarkdown(document: ExportDocument): string {
  const parts = [`# ${document.title}`, `_Exported ${document.exportedAt.toISOString()}_`];
  for (const message of document.messages) {
    parts.push(`## ${speaker(message)}`, `_${message.createdAt.toISOString()}_`);
    if (message.attachments.length) parts.push(message.attachments.map((name) => `- attached: ${name}`).join('\n'));
    parts.push(message.content);
  }
  return `${parts.join('\n\n')}\n`;
}

export function renderJson(document: ExportDocument): string {
  const messages = document.messages.map(({ images: _images, ...message }) => message);
  return `${JSON.stringify({ title: document.title, exportedAt: document.exportedAt, messages }, null, 2)}\n`;
}

/** The text of inline Markdown without its markup (bold, links, code spans ...). */
function plain(tokens: Token[] | undefined, fallback = ''): string {
  if (!tokens?.length) return fallback;
  return tokens.map((token) => ('tokens' in token && token.tokens?.length ? plain(token.tokens) : 'text' in token ? String(token.text) : token.raw)).join('');
}

type Pdf = PDFKit.PDFDocument;

// PDF's standard fonts only cover Latin-1; DejaVu has Greek, Cyrillic, Hebrew, Arabic and most symbols.
// (Not CJK: those characters still come out as missing glyphs.) pdfkit embeds just the glyphs used.
const FONT_FILES = { regular: 'DejaVuSans.ttf', bold: 'DejaVuSans-Bold.ttf', oblique: 'DejaVuSans-Oblique.ttf', mono: 'DejaVuSansMono.ttf' } as const;
type FontName = keyof typeof FONT_FILES;
let fonts: Record<FontName, Buffer> | undefined;
function fontBytes(): Record<FontName, Buffer> {
  if (!fonts) {
    const require = createRequire(import.meta.url);
    const load = (file: string) => readFileSync(require.resolve(`dejavu-fonts-ttf/ttf/${file}`));
    fonts = Object.fromEntries(Object.entries(FONT_FILES).map(([name, file]) => [name, load(file)])) as Record<FontName, Buffer>;
  }
  return fonts;
}

function drawList(pdf: Pdf, list: Tokens.List) {
  list.items.forEach((item, index) => {
    const bullet = list.ordered ? `${Number(list.start || 1) + index}.` : '•';
    pdf
      .font('regular')
      .fontSize(11)
      .text(`${bullet} ${plain(item.tokens, item.text)}`, { indent: 12 });
  });
  pdf.moveDown(0.4);
}

function drawTable(pdf: Pdf, table: Tokens.Table) {
  const header = table.header.map((cell) => plain(cell.tokens, cell.text));
  const rows = table.rows.map((row) => row.map((cell) => plain(cell.tokens, cell.text)));
  pdf.font('regular').fontSize(10);
  pdf.table({ data: [header, ...rows], rowStyles: (index: number) => (index === 0 ? { font: { src: 'bold' } } : {}) } as never);
  pdf.moveDown(0.5);
}

/** One block of a reply's Markdown as PDF text: headings, paragraphs, lists, code and tables stay selectable text. */
function drawBlock(pdf: Pdf, token: Token) {
  switch (token.type) {
    case 'heading':
      pdf
        .font('bold')
        .fontSize(Math.max(11, 17 - token.depth * 1.5))
        .text(plain(token.tokens, token.text));
      return void pdf.moveDown(0.3);
    case 'code':
      pdf.font('mono').fontSize(9).fillColor('#222222').text(token.text, { indent: 10 }).fillColor('black');
      return void pdf.moveDown(0.5);
    case 'list':
      return drawList(pdf, token as Tokens.List);
    case 'table':
      return drawTable(pdf, token as Tokens.Table);
    case 'blockquote':
      pdf.font('oblique').fontSize(11).text(plain(token.tokens, token.text), { indent: 14 });
      return void pdf.moveDown(0.5);
    case 'hr':
    case 'space':
      return void pdf.moveDown(0.3);
    default:
      pdf
        .font('regular')
        .fontSize(11)
        .text(plain('tokens' in token ? token.tokens : undefined, 'text' in token ? String(token.text) : token.raw));
      pdf.moveDown(0.5);
  }
}

function drawMessage(pdf: Pdf, message: ExportMessage) {
  pdf
    .font('bold')
    .fontSize(13)
    .fillColor(message.role === 'USER' ? '#1f4e8c' : '#2d6a2d')
    .text(speaker(message))
    .fillColor('black');
  pdf.font('regular').fontSize(8).fillColor('#666666').text(message.createdAt.toISOString()).fillColor('black');
  pdf.moveDown(0.3);
  for (const name of message.attachments) pdf.font('oblique').fontSize(9).text(`attached: ${name}`);
  for (const image of message.images) {
    try {
      pdf.image(image.bytes, { fit: [300, 220] });
      pdf.moveDown(0.3);
    } catch {
      // An image pdfkit cannot read stays named in the attachments above.
    }
  }
  // A user's message is shown as written; replies are Markdown.
  if (message.role === 'USER') pdf.font('regular').fontSize(11).text(message.content);
  else for (const token of marked.lexer(message.content)) drawBlock(pdf, token);
  pdf.moveDown(0.8);
}

export function renderPdf(document: ExportDocument): Promise<Uint8Array> {
  const pdf = new PDFDocument({ size: 'A4', margin: 50, info: { Title: document.title, Creator: 'AI chat gateway' } });
  for (const [name, bytes] of Object.entries(fontBytes())) pdf.registerFont(name, bytes);
  const chunks: Buffer[] = [];
  pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
  const finished = new Promise<Uint8Array>((resolve, reject) => {
    pdf.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
    pdf.on('error', reject);
  });
  pdf.font('bold').fontSize(20).text(document.title);
  pdf.font('regular').fontSize(9).fillColor('#666666').text(`Exported ${document.exportedAt.toISOString()}`).fillColor('black');
  pdf.moveDown();
  for (const message of document.messages) drawMessage(pdf, message);
  pdf.end();
  return finished;
}
