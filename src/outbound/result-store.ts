import type { Env } from '../env';
import { describeNetworkFailure } from './network-failure';
import { withTimeout } from './timeout';
import { imageInfo } from './image-info';

/** One result image as a provider hands it over: a (usually expiring) URL, or inline bytes. */
export type ResultImage = { url: string } | { base64: string; content_type?: string };

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

/** Refuse result images larger than this; no model here produces anything close. */
const MAX_IMAGE_BYTES = 40 * 1024 * 1024;

export function fileUrl(publicBaseUrl: string, fileId: string): string {
  return `${publicBaseUrl.replace(/\/$/, '')}/api/v1/files/${fileId}`;
}

function decodeBase64(data: string): Uint8Array {
  const clean = data.replace(/^data:[^,]*,/, '');
  const binary = atob(clean);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
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
 * re-run overwrites the same object instead of leaving an orphan) and describes what was stored.
 */
export async function storeResultImage(
  env: Env,
  image: ResultImage,
  fileId: string,
  publicBaseUrl: string,
  taskId: string,
): Promise<StoredImage> {
  const bytes = 'url' in image ? await download(image.url) : decodeBase64(image.base64);
  const info = imageInfo(bytes);
  if (!info) throw new ResultUnavailableError('provider returned a result that is not a PNG, JPEG or WebP image');
  await env.IMAGES.put(fileId, bytes, {
    httpMetadata: { contentType: info.content_type, cacheControl: 'public, max-age=31536000, immutable' },
    customMetadata: { task_id: taskId, width: String(info.width), height: String(info.height) },
  });
  return { url: fileUrl(publicBaseUrl, fileId), width: info.width, height: info.height, content_type: info.content_type };
}
