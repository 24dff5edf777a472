const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * `length` base62 characters from the CSPRNG. Rejection sampling keeps every character uniform
 * (each carries log2(62) ≈ 5.95 bits), so 22 characters hold more than 128 random bits.
 */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = crypto.getRandomValues(new Uint8Array(length * 2));
    for (const byte of bytes) {
      if (byte < 248 && out.length < length) out += BASE62[byte % 62];
    }
  }
  return out;
}

export const TASK_ID_PATTERN = /^task_[0-9A-Za-z]{22}$/;
export const FILE_ID_PATTERN = /^img_[0-9A-Za-z]{32}$/;
export const KEY_ID_PATTERN = /^key_[0-9A-Za-z]{16}$/;

export const newTaskId = (): string => `task_${randomBase62(22)}`;
export const newFileId = (): string => `img_${randomBase62(32)}`;
export const newKeyId = (): string => `key_${randomBase62(16)}`;
export const newApiKey = (): string => `aio_${randomBase62(40)}`;
