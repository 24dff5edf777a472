import { ProviderRetryableError } from './types';

/**
 * Reads a JSON answer that carries its images inline (base64 strings under known keys, e.g. OpenAI's
 * `b64_json`) without ever holding the answer, or more than one image, at once: the body is scanned
 * as it streams in, each image string is decoded to bytes as it arrives and handed to `spool` when
 * it ends, and what is left of the JSON (small) is parsed with the image strings replaced by
 * `placeholder(n)`. A `gpt-image` answer of ten photographs is 60 MB of base64; read whole, it took
 * 48 times one image's size at the peak, past the 128 MB an isolate may use.
 *
 * Hand-written rather than a streaming JSON library: those hand each string value over whole (the
 * 6 MB base64 text, then its decoded copy), and tracking strings to find the few keys is all the
 * JSON knowledge this needs. The skeleton is parsed by `JSON.parse`, so anything malformed outside
 * the image strings is still caught there.
 */

/** The text an image string is replaced with in the parsed answer. */
export const placeholder = (index: number): string => `spooled:${index}`;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const SLASH = 0x2f;
const EQUALS = 0x3d;
const DATA_PREFIX = [...'data:'].map((c) => c.charCodeAt(0));
/** Longest key worth remembering while looking for the image keys. */
const MAX_KEY_BYTES = 64;
/** Decoded bytes are written in blocks of this size, then joined once the image ends. */
const BLOCK_BYTES = 256 * 1024;

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTET = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let i = 0; i < ALPHABET.length; i++) table[ALPHABET.charCodeAt(i)] = i;
  // base64url, which some encoders use.
  table[0x2d] = 62;
  table[0x5f] = 63;
  return table;
})();
const isWhitespace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

const malformed = (provider: string, what: string) => new ProviderRetryableError(`${provider} answered with a malformed inline image (${what})`);

/** Decodes one base64 string arriving in pieces, keeping only the decoded bytes. */
class Base64Sink {
  private blocks: Uint8Array[] = [];
  private block = new Uint8Array(BLOCK_BYTES);
  private used = 0;
  private total = 0;
  private bits = 0;
  private count = 0;
  private padding = 0;
  /** The first bytes, until it is known whether they are a `data:…;base64,` prefix to skip. */
  private head: number[] | null = [];

  constructor(
    private readonly provider: string,
    private readonly maxBytes: number,
  ) {}

  /** Takes `bytes[from, to)`, all inside the string (no quote or backslash among them). */
  push(bytes: Uint8Array, from: number, to: number): void {
    let i = from;
    while (this.head && i < to) {
      this.head.push(bytes[i++]!);
      this.readHead(false);
    }
    for (; i < to; i++) {
      const byte = bytes[i]!;
      if (byte === EQUALS) {
        this.padding++;
        continue;
      }
      const sextet = SEXTET[byte]!;
      if (sextet < 0 || this.padding > 0) throw malformed(this.provider, `byte 0x${byte.toString(16)} at ${this.total}`);
      this.bits = (this.bits << 6) | sextet;
      if (++this.count === 4) {
        this.emit((this.bits >> 16) & 0xff);
        this.emit((this.bits >> 8) & 0xff);
        this.emit(this.bits & 0xff);
        this.bits = 0;
        this.count = 0;
      }
    }
  }

  /** The decoded image, in the blocks it was written to (joining them would take its size again). */
  end(): Uint8Array[] {
    if (this.head) this.readHead(true);
    if (this.count === 1 || this.padding > 2) throw malformed(this.provider, 'truncated');
    if (this.count === 2) this.emit((this.bits >> 4) & 0xff);
    if (this.count === 3) {
      this.emit((this.bits >> 10) & 0xff);
      this.emit((this.bits >> 2) & 0xff);
    }
    const parts = [...this.blocks, this.block.subarray(0, this.used)];
    this.blocks = [];
    return parts;
  }

  private readHead(ending: boolean): void {
    const head = this.head!;
    const mayBePrefix = head.slice(0, DATA_PREFIX.length).every((byte, i) => byte === DATA_PREFIX[i]);
    if (mayBePrefix && head.length < DATA_PREFIX.length && !ending) return;
    let rest = head;
    if (mayBePrefix && head.length >= DATA_PREFIX.length) {
      const comma = head.indexOf(COMMA);
      if (comma < 0) {
        if (ending || head.length > 256) throw malformed(this.provider, 'data URL without a comma');
        return;
      }
      rest = head.slice(comma + 1);
    }
    this.head = null;
    this.push(Uint8Array.from(rest), 0, rest.length);
  }

  private emit(byte: number): void {
    if (this.used === BLOCK_BYTES) {
      this.blocks.push(this.block);
      this.block = new Uint8Array(BLOCK_BYTES);
      this.used = 0;
    }
    this.block[this.used++] = byte;
    if (++this.total > this.maxBytes) throw malformed(this.provider, `larger than ${this.maxBytes} bytes`);
  }
}

export interface InlineImageReading<Spooled> {
  /** The answer with each image string replaced by `placeholder(n)`; undefined when that is not JSON. */
  json: unknown;
  /** What `spool` made of each image, by `n`. */
  spooled: Spooled[];
}

/**
 * Scans `body`, giving every string value under one of `keys` to `spool` as decoded bytes (in
 * consecutive parts), one at a time and in order. Throws a retryable error for a malformed image string; `spool`'s own errors
 * pass through.
 */
export async function readInlineImages<Spooled>(
  provider: string,
  body: ReadableStream<Uint8Array>,
  keys: readonly string[],
  maxBytes: number,
  spool: (parts: Uint8Array[]) => Promise<Spooled>,
): Promise<InlineImageReading<Spooled>> {
  const wanted = new Set(keys);
  const skeleton: number[] = [];
  const spooled: Spooled[] = [];
  let inString = false;
  let escaped = false;
  /** The bytes of the string being read, while it may still be a key we want. */
  let text: number[] | null = null;
  /** A wanted key just ended; then its colon was seen. */
  let afterKey: 'key' | 'colon' | null = null;
  let image: Base64Sink | null = null;

  for await (const chunk of body) {
    let i = 0;
    while (i < chunk.length) {
      if (image) {
        if (escaped) {
          escaped = false;
          // Only `\/` can stand in base64; an encoder may escape the slash.
          if (chunk[i] !== SLASH) throw malformed(provider, 'escape');
          image.push(chunk, i, i + 1);
          i++;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        const backslash = chunk.indexOf(BACKSLASH, i);
        const stop = Math.min(quote < 0 ? chunk.length : quote, backslash < 0 ? chunk.length : backslash);
        image.push(chunk, i, stop);
        i = stop;
        if (i === chunk.length) break;
        if (chunk[i] === BACKSLASH) escaped = true;
        else {
          const parts = image.end();
          image = null;
          for (const c of `${placeholder(spooled.length)}"`) skeleton.push(c.charCodeAt(0));
          spooled.push(await spool(parts));
        }
        i++;
        continue;
      }
      const byte = chunk[i++]!;
      skeleton.push(byte);
      if (inString) {
        if (escaped) escaped = false;
        else if (byte === BACKSLASH) escaped = true;
        else if (byte === QUOTE) {
          inString = false;
          afterKey = text && wanted.has(String.fromCharCode(...text)) ? 'key' : null;
          text = null;
          continue;
        }
        if (text) {
          if (escaped || text.length >= MAX_KEY_BYTES) text = null;
          else text.push(byte);
        }
        continue;
      }
      if (isWhitespace(byte)) continue;
      if (byte === COLON && afterKey === 'key') {
        afterKey = 'colon';
        continue;
      }
      if (byte === QUOTE) {
        if (afterKey === 'colon') image = new Base64Sink(provider, maxBytes);
        else {
          inString = true;
          text = [];
        }
      }
      afterKey = null;
    }
  }
  if (image || inString) return { json: undefined, spooled };
  try {
    return { json: JSON.parse(new TextDecoder().decode(new Uint8Array(skeleton))), spooled };
  } catch {
    return { json: undefined, spooled };
  }
}
