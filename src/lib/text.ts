/**
 * Text that is safe to store, index and send on: no U+0000 (PostgreSQL text
 * rejects it) and no lone UTF-16 surrogates (they cannot be encoded as UTF-8).
 */

const HIGH_SURROGATE = /[\uD800-\uDBFF]$/;

// Node 20 has String.prototype.toWellFormed; TypeScript declares it only in its ES2024 lib.
type WellFormable = string & { toWellFormed(): string };

/** Lone surrogates become U+FFFD, then every U+0000 is dropped (in this order, so a NUL never joins two halves into a pair). */
export function toValidText(text: string): string {
  return (text as WellFormable).toWellFormed().replaceAll('\0', '');
}

export interface TextStream {
  /** The valid text of this piece, holding back a trailing high surrogate until the next piece. */
  push(piece: string): string;
  /** Whatever is still held back, made valid (a held high surrogate alone becomes U+FFFD). */
  flush(): string;
}

/** Makes streamed pieces valid without breaking a surrogate pair split across two pieces. */
export function createTextStream(): TextStream {
  let held = '';
  return {
    push(piece) {
      let text = held + piece;
      held = '';
      if (HIGH_SURROGATE.test(text)) {
        held = text.slice(-1);
        text = text.slice(0, -1);
      }
      return toValidText(text);
    },
    flush() {
      const text = toValidText(held);
      held = '';
      return text;
    },
  };
}

/** The first `maxLength` UTF-16 units of the text, never cutting a surrogate pair in half (PostgreSQL refuses a lone one). */
export function truncated(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  const cut = text.slice(0, maxLength);
  return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
}
