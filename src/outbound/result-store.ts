import type { Env } from '../env';
import { log } from '../log';
import type { ProviderImage, SpooledImage } from '../providers/types';
import { describeNetworkFailure } from './network-failure';
import { withTimeout } from './timeout';
import { imageInfo, MAX_IMAGE_BYTES } from './image-info';

/** What was stored: the image as the task view shows it. */
export interface StoredImage {
  url: string;
  width: number;
  height: number;
  content_type: string;
}

/** A result that can never be stored, however often it is fetched again; its message is for customers. */
export class ResultRejectedError extends Error {
  override name = 'ResultRejectedError';
}

/** A result that could not be stored this time (download failed, provider URL not ready): worth a retry. */
export class ResultUnavailableError extends Error {
  override name = 'ResultUnavailableError';
}

export function fileUrl(publicBaseUrl: string, fileId: string): string {
  return `${publicBaseUrl.replace(/\/$/, '')}/api/v1/files/${fileId}`;
}

/** The whole download, body included, is bounded: a stalled body must not hold the task's alarm. */
const DOWNLOAD_TIMEOUT_MS = 60_000;

async function download(url: string): Promise<Uint8Array> {
  type Fetched = { bytes: Uint8Array } | { status: number; declared: number };
  const result = await withTimeout(DOWNLOAD_TIMEOUT_MS, async (signal): Promise<Fetched> => {
    const response = await fetch(url, { headers: { accept: 'image/*' }, signal });
    const declared = Number(response.headers.get('content-length') ?? '0');
    if (!response.ok || declared > MAX_IMAGE_BYTES) {
      await response.body?.cancel();
      return { status: response.status, declared };
    }
    return { bytes: new Uint8Array(await response.arrayBuffer()) };
  }).catch((err: unknown) => {
    const reason = describeNetworkFailure(err, { event: 'result_download_failed', host: new URL(url).host });
    throw new ResultUnavailableError(`result download failed: ${reason}`, { cause: err });
  });
  if ('status' in result) {
    if (result.declared > MAX_IMAGE_BYTES) throw new ResultRejectedError(`result image of ${result.declared} bytes is too large`);
    throw new ResultUnavailableError(`result download answered ${result.status}`);
  }
  if (result.bytes.byteLength > MAX_IMAGE_BYTES) throw new ResultRejectedError('result image too large');
  return result.bytes;
}

/**
 * Copies one provider result into R2 under `fileId` (chosen and saved by the task beforehand, so a
 * re-run overwrites the same object instead of leaving an orphan) and describes what was stored. An
 * inline image was stored while the provider's answer was read; only its description is left to give.
 */
export async function storeResultImage(
  env: Env,
  image: ProviderImage,
  fileId: string,
  publicBaseUrl: string,
  taskId: string,
): Promise<StoredImage> {
  if ('spooled' in image) {
    const { file_id, width, height, content_type } = image.spooled;
    return { url: fileUrl(publicBaseUrl, file_id), width, height, content_type };
  }
  const { width, height, content_type } = await putImage(env, [await download(image.url)], fileId, taskId);
  return { url: fileUrl(publicBaseUrl, fileId), width, height, content_type };
}

/** Tries R2 gets for an inline image before its answer, and the paid generation with it, is given up. */
const SPOOL_ATTEMPTS = 3;

/**
 * Stores an inline result image (its bytes in consecutive parts) under a new `fileId`, as the provider's
 * answer is read. That answer is read once: an image not stored here takes another generation, billed
 * again by the provider, so a failing put is tried again while the bytes are still in hand.
 */
export async function spoolResultImage(env: Env, parts: Uint8Array[], fileId: string, taskId: string): Promise<SpooledImage> {
  for (let attempt = 1; ; attempt++) {
    try {
      return { file_id: fileId, ...(await putImage(env, parts, fileId, taskId)) };
    } catch (err) {
      if (err instanceof ResultUnavailableError || attempt >= SPOOL_ATTEMPTS) throw err;
      log.warn('result_spool_retried', { task_id: taskId, file_id: fileId, attempt }, err);
    }
  }
}

const joined = (parts: Uint8Array[]): Uint8Array => {
  const bytes = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  parts.reduce((at, part) => (bytes.set(part, at), at + part.byteLength), 0);
  return bytes;
};

/**
 * Puts the parts to R2 as one object without joining them first (which would hold the image twice):
 * a stream of known length, which R2 needs to take a stream.
 */
async function putImage(env: Env, parts: Uint8Array[], fileId: string, taskId: string): Promise<Omit<SpooledImage, 'file_id'>> {
  // The first part (256 KiB of a decoded image) holds the header, unless a JPEG carries a huge prefix.
  const info = imageInfo(parts[0] ?? new Uint8Array(0)) ?? (parts.length > 1 ? imageInfo(joined(parts)) : null);
  if (!info) throw new ResultUnavailableError('provider returned a result that is not a PNG, JPEG or WebP image');
  const options: R2PutOptions = {
    httpMetadata: { contentType: info.content_type, cacheControl: 'public, max-age=31536000, immutable' },
    customMetadata: { task_id: taskId, width: String(info.width), height: String(info.height) },
  };
  if (parts.length === 1) {
    await env.IMAGES.put(fileId, parts[0]!, options);
    return info;
  }
  const stream = new FixedLengthStream(parts.reduce((sum, part) => sum + part.byteLength, 0));
  const writer = stream.writable.getWriter();
  const writing = (async () => {
    for (const part of parts) await writer.write(part);
    await writer.close();
  })();
  await Promise.all([env.IMAGES.put(fileId, stream.readable, options), writing]);
  return info;
}
