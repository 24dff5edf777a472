/** Refuse result images larger than this; no model here produces anything close. */
export const MAX_IMAGE_BYTES = 40 * 1024 * 1024;

export interface ImageInfo {
  content_type: 'image/png' | 'image/jpeg' | 'image/webp';
  width: number;
  height: number;
}

function png(b: Uint8Array, v: DataView): ImageInfo | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (b.length < 24 || !signature.every((byte, i) => b[i] === byte)) return null;
  return { content_type: 'image/png', width: v.getUint32(16), height: v.getUint32(20) };
}

function jpeg(b: Uint8Array, v: DataView): ImageInfo | null {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return null;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return null;
    const marker = b[i + 1]!;
    // SOF0…SOF15 carry the frame size, except DHT (C4), JPG (C8) and DAC (CC).
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { content_type: 'image/jpeg', height: v.getUint16(i + 5), width: v.getUint16(i + 7) };
    }
    i += 2 + v.getUint16(i + 2);
  }
  return null;
}

function webp(b: Uint8Array, v: DataView): ImageInfo | null {
  const tag = (at: number) => String.fromCharCode(...b.subarray(at, at + 4));
  if (b.length < 30 || tag(0) !== 'RIFF' || tag(8) !== 'WEBP') return null;
  switch (tag(12)) {
    case 'VP8X':
      return { content_type: 'image/webp', width: 1 + (v.getUint32(24, true) & 0xffffff), height: 1 + (v.getUint32(27, true) & 0xffffff) };
    case 'VP8L': {
      const bits = v.getUint32(21, true);
      return { content_type: 'image/webp', width: 1 + (bits & 0x3fff), height: 1 + ((bits >> 14) & 0x3fff) };
    }
    case 'VP8 ':
      return { content_type: 'image/webp', width: v.getUint16(26, true) & 0x3fff, height: v.getUint16(28, true) & 0x3fff };
    default:
      return null;
  }
}

/**
 * Type and pixel size read from the image's own header, so a task reports what was actually stored
 * rather than what was asked for. Null for anything that is not PNG, JPEG or WebP.
 */
export function imageInfo(bytes: Uint8Array): ImageInfo | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return png(bytes, view) ?? jpeg(bytes, view) ?? webp(bytes, view);
}
