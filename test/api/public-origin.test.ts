import { describe, expect, it } from 'vitest';
import { publicOrigin } from '../../src/api/public-origin';

const request = 'https://forged.example.org/api/v1/images/generations';

describe('publicOrigin: where result URLs point', () => {
  it('is PUBLIC_BASE_URL when it is set, whatever Host the request came with', () => {
    expect(publicOrigin({ ENVIRONMENT: 'production', PUBLIC_BASE_URL: 'https://images.example.com' }, request)).toEqual({
      ok: true,
      origin: 'https://images.example.com',
    });
    expect(publicOrigin({ ENVIRONMENT: 'production', PUBLIC_BASE_URL: 'https://images.example.com/' }, request)).toMatchObject({
      origin: 'https://images.example.com',
    });
  });

  it.each(['production', 'staging', ''])('refuses an empty PUBLIC_BASE_URL with ENVIRONMENT=%j, naming the variable', (environment) => {
    const result = publicOrigin({ ENVIRONMENT: environment, PUBLIC_BASE_URL: '' }, request);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problem).toMatch(/^PUBLIC_BASE_URL is empty/);
  });

  it.each(['images.example.com', '/api', 'ftp://images.example.com', 'https://images.example.com/prefix', 'https://u:p@images.example.com', 'https://images.example.com/?x=1'])(
    'refuses PUBLIC_BASE_URL=%j, which is not an absolute http(s) origin, in any environment',
    (value) => {
      for (const environment of ['production', 'development']) {
        const result = publicOrigin({ ENVIRONMENT: environment, PUBLIC_BASE_URL: value }, request);
        expect(!result.ok && result.problem).toMatch(/^PUBLIC_BASE_URL must be an absolute http\(s\) origin/);
      }
    },
  );

  it("falls back to the request's origin in development only", () => {
    expect(publicOrigin({ ENVIRONMENT: 'development', PUBLIC_BASE_URL: '' }, 'http://localhost:8787/api/v1/images/generations')).toEqual({
      ok: true,
      origin: 'http://localhost:8787',
    });
  });
});
