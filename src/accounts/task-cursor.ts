/**
 * Cursors of `GET /api/v1/tasks`: a position in the account's task index (its `seq`), opaque and
 * tamper-proof. The cursor carries the position and an HMAC-SHA-256 over the position, the account
 * and the filters it was issued for, so a client can neither make up a position nor reuse a cursor
 * with other filters or for another account: such a cursor does not verify and is answered 400.
 *
 * The HMAC key is derived (HKDF-SHA-256, with a label of its own) from the `INTERNAL_API_TOKEN`
 * secret rather than being a secret of its own: it must be secret and the same on every isolate,
 * which that token already is, so there is nothing new to provision or rotate. Deriving it, instead
 * of keying the HMAC with the token itself, keeps the two uses apart: a MAC says nothing about the
 * token, and the token's own use (comparing the BFF's bearer token) never meets cursor bytes.
 * Rotating the token invalidates outstanding cursors, which only costs a client a fresh first page.
 */

const encoder = new TextEncoder();
const MAC_BYTES = 32;
const HKDF_INFO = encoder.encode('image-gateway task-list cursor v1');

/** Derived keys per secret value, for the life of the isolate (a rotation adds one). */
const keys = new Map<string, Promise<CryptoKey>>();

function cursorKey(secret: string): Promise<CryptoKey> {
  if (!secret) throw new Error('INTERNAL_API_TOKEN is not set: task-list cursors cannot be signed');
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle
      .importKey('raw', encoder.encode(secret), 'HKDF', false, ['deriveKey'])
      .then((material) =>
        crypto.subtle.deriveKey(
          { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: HKDF_INFO },
          material,
          { name: 'HMAC', hash: 'SHA-256', length: 256 },
          false,
          ['sign', 'verify'],
        ),
      );
    keys.set(secret, key);
  }
  return key;
}

/** What a cursor is valid for: the account and the filters of the list that issued it. */
export interface CursorScope {
  accountId: string;
  status?: string;
  model?: string;
}

function signedText(position: number, scope: CursorScope): Uint8Array {
  return encoder.encode(JSON.stringify(['tasks', position, scope.accountId, scope.status ?? null, scope.model ?? null]));
}

function toBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** The bytes of a base64url text, or null unless it is the one text `toBase64Url` makes of them (`atob` ignores stray low bits). */
function fromBase64Url(text: string): Uint8Array | null {
  try {
    const bytes = Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
    return toBase64Url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}

/** A cursor for the rows older than `position`, valid only within `scope`. */
export async function signCursor(secret: string, position: number, scope: CursorScope): Promise<string> {
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', await cursorKey(secret), signedText(position, scope)));
  const bytes = new Uint8Array([...mac, ...encoder.encode(String(position))]);
  return toBase64Url(bytes);
}

/** The position a cursor stands for, or null when it was not issued for this `scope` (or at all). */
export async function readCursor(secret: string, cursor: string, scope: CursorScope): Promise<number | null> {
  const bytes = fromBase64Url(cursor);
  if (!bytes || bytes.length <= MAC_BYTES) return null;
  const digits = new TextDecoder().decode(bytes.subarray(MAC_BYTES));
  if (!/^[1-9][0-9]{0,14}$/.test(digits)) return null;
  const position = Number(digits);
  // `verify` compares in constant time.
  const valid = await crypto.subtle.verify('HMAC', await cursorKey(secret), bytes.subarray(0, MAC_BYTES), signedText(position, scope));
  return valid ? position : null;
}
