import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { AppEnv } from '../../env';
import type { Env } from '../../env';
import { ApiError } from '../../errors';
import { newFileId } from '../../ids';
import { imageInfo, type ImageInfo } from '../../outbound/image-info';
import { fileUrl } from '../../outbound/result-store';

/**
 * Images uploaded to `POST /v1/images/edits`. They are checked by their bytes (the claimed type is the
 * client's to get wrong), kept in R2 beside the results, and handed to the provider as URLs served by
 * this Worker's public file route, which every provider can fetch.
 */

export const MAX_FILE_BYTES = 20 * 1024 * 1024;
export const MAX_FILES_BYTES = 50 * 1024 * 1024;
/** The form around the files: its text fields and part headers. The JSON routes keep their 64 KiB. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;
const MAX_FORM_BYTES = MAX_FILES_BYTES + FORM_OVERHEAD_BYTES;

const MULTIPART = /^multipart\/form-data\s*;\s*boundary=/i;

const limitForm = bodyLimit({
  maxSize: MAX_FORM_BYTES,
  onError: () => {
    throw new ApiError('payload_too_large', `Request body exceeds ${MAX_FORM_BYTES} bytes (images: ${MAX_FILES_BYTES} bytes together).`);
  },
});

/**
 * Route middleware of the edits route, after authentication: a multipart form (415 otherwise), no
 * larger than the files allow (413, counted as it streams in when there is no `content-length`), and
 * well-formed (400); the parsed form is cached for the route's validator.
 */
export const multipartForm = createMiddleware<AppEnv>(async (c, next) =>
  limitForm(c, async () => {
    if (!MULTIPART.test(c.req.header('content-type') ?? '')) {
      throw new ApiError('unsupported_media_type', 'Content-Type must be multipart/form-data (with a boundary).');
    }
    try {
      await c.req.formData();
    } catch (err) {
      if (err instanceof ApiError) throw err;
      throw new ApiError('invalid_request', 'The body is not a well-formed multipart/form-data form.', {
        details: [{ path: '', message: 'not a well-formed multipart/form-data form' }],
        cause: err,
      });
    }
    await next();
  }),
);

export interface CheckedImage {
  bytes: Uint8Array;
  info: ImageInfo;
}

const badImage = (path: string, message: string, code: 'invalid_request' | 'payload_too_large' = 'invalid_request') =>
  new ApiError(code, `${path}: ${message}`, { param: 'image', details: [{ path, message }] });

/** Reads and checks the uploaded files: each a PNG, JPEG or WebP by its bytes, within the size limits. */
export async function checkImages(files: readonly File[]): Promise<CheckedImage[]> {
  const path = (i: number) => (files.length === 1 ? 'image' : `image.${i}`);
  let total = 0;
  files.forEach((file, i) => {
    if (file.size > MAX_FILE_BYTES) throw badImage(path(i), `is ${file.size} bytes; each image may have ${MAX_FILE_BYTES}`, 'payload_too_large');
    total += file.size;
  });
  if (total > MAX_FILES_BYTES) throw badImage('image', `the images have ${total} bytes together; at most ${MAX_FILES_BYTES}`, 'payload_too_large');
  return Promise.all(
    files.map(async (file, i) => {
      const bytes = new Uint8Array(await file.arrayBuffer());
      const info = imageInfo(bytes);
      if (!info) throw badImage(path(i), 'is not a PNG, JPEG or WebP image');
      return { bytes, info };
    }),
  );
}

/** Where each image will be served, decided before anything is stored, so a refused request stores nothing. */
export function plannedUploads(count: number, origin: string): { ids: string[]; urls: string[] } {
  const ids = Array.from({ length: count }, newFileId);
  return { ids, urls: ids.map((id) => fileUrl(origin, id)) };
}

/** Stores the checked images under their planned ids, as result files are stored (public, immutable). */
export async function storeUploads(env: Env, ids: readonly string[], images: readonly CheckedImage[], accountId: string): Promise<void> {
  await Promise.all(
    images.map(({ bytes, info }, i) =>
      env.IMAGES.put(ids[i]!, bytes, {
        httpMetadata: { contentType: info.content_type, cacheControl: 'public, max-age=31536000, immutable' },
        customMetadata: { kind: 'upload', account_id: accountId, width: String(info.width), height: String(info.height) },
      }),
    ),
  );
}
