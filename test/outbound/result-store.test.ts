import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { newFileId } from '../../src/ids';
import { ResultUnavailableError, spoolResultImage, storeResultImage } from '../../src/outbound/result-store';
import { pngHeaded, pngSize } from '../png';

/** `bytes` cut into parts of `size` bytes, as the inline-image reader hands a decoded image over. */
const partsOf = (bytes: Uint8Array, size: number): Uint8Array[] =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size));

describe('storing an inline result image from its decoded parts', () => {
  it('puts the parts to R2 as one object, byte for byte, described from its header', async () => {
    const png = pngHeaded(640, 480, 10_000);
    const fileId = newFileId();
    const spooled = await spoolResultImage(env, partsOf(png, 97), fileId, 'task_spool');
    expect(spooled).toEqual({ file_id: fileId, width: 640, height: 480, content_type: 'image/png' });
    const stored = await env.IMAGES.get(fileId);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(png);
    expect(stored!.httpMetadata?.contentType).toBe('image/png');
    expect(stored!.customMetadata).toEqual({ task_id: 'task_spool', width: '640', height: '480' });
  });

  it('reads the header across parts when the first is too short to hold it', async () => {
    const png = pngHeaded(32, 16, 64);
    const fileId = newFileId();
    expect(await spoolResultImage(env, partsOf(png, 5), fileId, 'task_spool')).toMatchObject({ width: 32, height: 16 });
    expect(pngSize(new Uint8Array(await (await env.IMAGES.get(fileId))!.arrayBuffer()))).toEqual({ width: 32, height: 16 });
  });

  it('tries R2 again while it holds the bytes, since losing them would cost another paid generation', async () => {
    const png = pngHeaded(64, 32, 2_000);
    const fileId = newFileId();
    let puts = 0;
    const flaky = {
      ...env,
      IMAGES: {
        put: async (...args: Parameters<typeof env.IMAGES.put>) => {
          if (++puts < 3) {
            await (args[1] as ReadableStream | null)?.cancel?.();
            throw new Error('R2 is briefly unavailable');
          }
          return env.IMAGES.put(...args);
        },
      },
    } as unknown as typeof env;
    expect(await spoolResultImage(flaky, partsOf(png, 500), fileId, 'task_spool')).toMatchObject({ width: 64, height: 32 });
    expect(puts).toBe(3);
    expect(new Uint8Array(await (await env.IMAGES.get(fileId))!.arrayBuffer())).toEqual(png);

    puts = -10;
    await expect(spoolResultImage(flaky, partsOf(png, 500), newFileId(), 'task_spool')).rejects.toThrow('R2 is briefly unavailable');
  });

  it('refuses bytes that are not a PNG, JPEG or WebP image, storing nothing', async () => {
    const fileId = newFileId();
    await expect(spoolResultImage(env, [new TextEncoder().encode('<html>not an image</html>')], fileId, 'task_spool')).rejects.toBeInstanceOf(
      ResultUnavailableError,
    );
    expect(await env.IMAGES.head(fileId)).toBeNull();
  });

  it('describes a spooled image without touching R2 again when the task stores its results', async () => {
    const spooled = { file_id: 'img_already_there', width: 8, height: 4, content_type: 'image/webp' };
    expect(await storeResultImage(env, { spooled }, 'unused', 'https://images.example.com', 'task_spool')).toEqual({
      url: 'https://images.example.com/api/v1/files/img_already_there',
      width: 8,
      height: 4,
      content_type: 'image/webp',
    });
    // Nothing was copied under the file id the task would otherwise have used.
    expect(await env.IMAGES.head('unused')).toBeNull();
  });
});
