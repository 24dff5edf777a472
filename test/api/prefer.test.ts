import { describe, expect, it } from 'vitest';
import { preferredWait } from '../../src/api/prefer';

describe('Prefer: wait', () => {
  it.each([
    ['wait=10', 10],
    ['respond-async, wait=5', 5],
    ['WAIT = 7', 7],
    ['wait="3"', 3],
    ['wait=600', 60],
    ['return=minimal; foo=bar, wait=2', 2],
  ])('reads %j as %j seconds', (header, seconds) => {
    expect(preferredWait(header)).toBe(seconds);
  });

  it.each([undefined, '', 'respond-async', 'wait=0', 'wait=-1', 'wait=1.5', 'wait=soon', 'wait=0x10', 'waiting=3'])(
    'ignores %j',
    (header) => {
      expect(preferredWait(header)).toBeNull();
    },
  );
});
