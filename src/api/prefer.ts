/** The most `Prefer: wait` is honoured for; more is taken as this. */
export const MAX_WAIT_S = 60;

/**
 * The `wait` preference of a `Prefer` header (RFC 7240), in seconds, capped at 60; null when there is
 * none or it is not a positive whole number (a preference a server cannot use is ignored, not refused).
 */
export function preferredWait(header: string | undefined): number | null {
  if (!header) return null;
  for (const preference of header.split(',')) {
    const [name, value] = preference.split(';')[0]!.split('=').map((part) => part.trim());
    if (name?.toLowerCase() !== 'wait' || value === undefined) continue;
    const seconds = /^"?(\d{1,6})"?$/.exec(value)?.[1];
    if (seconds === undefined || Number(seconds) < 1) return null;
    return Math.min(Number(seconds), MAX_WAIT_S);
  }
  return null;
}
