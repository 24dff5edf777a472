import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { placeholder, readInlineImages } from '../../src/providers/inline-images';
import { ProviderRetryableError } from '../../src/providers/types';

const encoder = new TextEncoder();
const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

/** `text` as a body arriving in pieces cut at `cuts` (byte offsets). */
function streamOf(text: string, cuts: number[] = []): ReadableStream<Uint8Array> {
  const bytes = encoder.encode(text);
  const edges = [...new Set([0, ...cuts.map((c) => c % (bytes.length + 1)), bytes.length])].sort((a, b) => a - b);
  const pieces = edges.slice(1).map((end, i) => bytes.slice(edges[i], end));
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
}

async function read(text: string, cuts: number[] = [], keys = ['b64_json'], maxBytes = 1 << 20) {
  const images: Uint8Array[] = [];
  const reading = await readInlineImages('test', streamOf(text, cuts), keys, maxBytes, async (parts) => {
    images.push(new Uint8Array(await new Blob(parts).arrayBuffer()));
    return images.length - 1;
  });
  return { ...reading, images };
}

describe('reading inline images from a streamed answer', () => {
  it('hands over each image string decoded, in order, and parses the rest with stand-ins', async () => {
    const a = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
    const b = Uint8Array.from([255, 254, 253]);
    const body = JSON.stringify({ created: 1, data: [{ b64_json: toBase64(a) }, { b64_json: toBase64(b) }], usage: { total_tokens: 5 } });
    const { json, images, spooled } = await read(body);
    expect(images).toEqual([a, b]);
    expect(spooled).toEqual([0, 1]);
    expect(json).toEqual({ created: 1, data: [{ b64_json: placeholder(0) }, { b64_json: placeholder(1) }], usage: { total_tokens: 5 } });
  });

  it('whatever the pieces, whitespace, escaped slashes, data-URL prefixes and base64 padding', async () => {
    const image = fc.uint8Array({ minLength: 0, maxLength: 300 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ bytes: image, dataUrl: fc.boolean(), escapeSlashes: fc.boolean(), spaced: fc.boolean() }), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (items, cuts) => {
          const parts = items.map(({ bytes, dataUrl, escapeSlashes, spaced }) => {
            let text = `${dataUrl ? 'data:image/png;base64,' : ''}${toBase64(bytes)}`;
            if (escapeSlashes) text = text.replaceAll('/', '\\/');
            return spaced ? `{ "note" : "b64_json" , "b64_json" :\n "${text}" }` : `{"note":"b64_json","b64_json":"${text}"}`;
          });
          const { json, images } = await read(`{"data":[${parts.join(',')}],"x":"\\"b64_json\\""}`, cuts);
          expect(images).toEqual(items.map((item) => item.bytes));
          expect(json).toEqual({ data: items.map((_, n) => ({ note: 'b64_json', b64_json: placeholder(n) })), x: '"b64_json"' });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('leaves strings under other keys, and a value that merely reads like a key, as they are', async () => {
    const { json, images } = await read('{"url":"aGVsbG8=","b64":"aGVsbG8=","list":["b64_json"],"b64_json":null}');
    expect(images).toEqual([]);
    expect(json).toEqual({ url: 'aGVsbG8=', b64: 'aGVsbG8=', list: ['b64_json'], b64_json: null });
  });

  it('reads the keys it is given (Imagen: bytesBase64Encoded)', async () => {
    const { images } = await read('{"predictions":[{"mimeType":"image/png","bytesBase64Encoded":"AQID"}]}', [], ['bytesBase64Encoded']);
    expect(images).toEqual([Uint8Array.from([1, 2, 3])]);
  });

  it.each([
    ['a character outside base64', '{"b64_json":"AQ*D"}'],
    ['data after the padding', '{"b64_json":"AQ==AQID"}'],
    ['a lone trailing character', '{"b64_json":"AQIDB"}'],
    ['an escape other than a slash', '{"b64_json":"AQ\\nID"}'],
    ['a data URL without its comma', '{"b64_json":"data:image/png;base64"}'],
  ])('refuses an image string with %s as a malformed answer, worth a retry', async (_what, body) => {
    await expect(read(body)).rejects.toBeInstanceOf(ProviderRetryableError);
  });

  it('stops reading an image larger than the limit', async () => {
    await expect(read(`{"b64_json":"${toBase64(new Uint8Array(64))}"}`, [], ['b64_json'], 63)).rejects.toThrow(/larger than 63 bytes/);
  });

  it('says the answer is not JSON when the skeleton is not, or the body ends inside a string', async () => {
    expect((await read('{"b64_json":"AQID"')).json).toBeUndefined();
    expect((await read('{"b64_json":"AQID" oops}')).json).toBeUndefined();
    expect((await read('{"other":"unterminated')).json).toBeUndefined();
  });
});
