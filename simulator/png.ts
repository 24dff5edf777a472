import { createHash } from 'node:crypto';
import { crc32, deflateSync } from 'node:zlib'; // crc32: Node 20.15 or later

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * Encodes 8-bit RGB pixels (row-major, 3 bytes each) as a PNG. Hand-written rather than a PNG
 * library: an unfiltered truecolour image is three chunks around zlib's deflate and CRC, so a
 * dependency would add more than it saves.
 */
export function encodePng(width: number, height: number, rgb: Uint8Array): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0; // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw, { level: 1 })),
    chunk('IEND', new Uint8Array(0)),
  ]);
}

function seeded(text: string): () => number {
  let state = createHash('sha256').update(text).digest().readUInt32LE(0) || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x100000000;
  };
}

/**
 * A picture of the prompt: a two-colour gradient seeded by the whole prompt, one disc per word
 * (colour and place seeded by the word, size by its length) and a bar code of the prompt's
 * characters along the bottom. The same prompt always gives the same picture. With `grain`, every
 * pixel gets seeded noise, which deflate cannot shrink: the file is as large as a photograph's.
 */
export function renderPromptImage(prompt: string, width: number, height: number, grain = false): Buffer {
  const rand = seeded(prompt);
  const colour = () => [rand() * 255, rand() * 255, rand() * 255] as const;
  const [a, b] = [colour(), colour()];
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const t = y / Math.max(1, height - 1);
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const s = (t + x / Math.max(1, width - 1)) / 2;
      rgb[i] = a[0] + (b[0] - a[0]) * s;
      rgb[i + 1] = a[1] + (b[1] - a[1]) * s;
      rgb[i + 2] = a[2] + (b[2] - a[2]) * s;
    }
  }
  const words = prompt.split(/\s+/).filter(Boolean).slice(0, 16);
  for (const word of words) {
    const r = seeded(word);
    const cx = r() * width;
    const cy = r() * height * 0.85;
    const radius = Math.min(width, height) * (0.04 + Math.min(word.length, 12) * 0.012);
    const fill = [r() * 255, r() * 255, r() * 255];
    const y0 = Math.max(0, Math.floor(cy - radius));
    const y1 = Math.min(height - 1, Math.ceil(cy + radius));
    for (let y = y0; y <= y1; y++) {
      const half = Math.sqrt(Math.max(0, radius * radius - (y - cy) ** 2));
      for (let x = Math.max(0, Math.floor(cx - half)); x <= Math.min(width - 1, Math.ceil(cx + half)); x++) {
        const i = (y * width + x) * 3;
        rgb[i] = fill[0]!;
        rgb[i + 1] = fill[1]!;
        rgb[i + 2] = fill[2]!;
      }
    }
  }
  const barTop = Math.floor(height * 0.9);
  const chars = [...prompt].slice(0, 256);
  const barWidth = width / Math.max(1, chars.length);
  chars.forEach((ch, n) => {
    const level = (ch.codePointAt(0)! * 37) % 256;
    for (let y = barTop; y < height; y++) {
      for (let x = Math.floor(n * barWidth); x < Math.min(width, Math.floor((n + 1) * barWidth)); x++) {
        const i = (y * width + x) * 3;
        rgb[i] = level;
        rgb[i + 1] = 255 - level;
        rgb[i + 2] = (level * 3) % 256;
      }
    }
  });
  if (grain) {
    const noise = seeded(`${prompt}\u0000grain`);
    for (let i = 0; i < rgb.length; i++) rgb[i] = rgb[i]! ^ ((noise() * 256) & 0x3f);
  }
  return encodePng(width, height, rgb);
}
