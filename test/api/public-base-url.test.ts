import { env } from 'cloudflare:workers';
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { describe, expect, it, vi } from 'vitest';
import worker from '../../src/index';
import { balance, customer, ORIGIN } from '../helpers';

/** The Worker's fetch handler run with other variables than the test configuration's. */
async function withVars(vars: Partial<typeof env>, path: string, init: RequestInit): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...vars }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

describe('PUBLIC_BASE_URL outside development', () => {
  it('refuses to create tasks while it is empty, telling the operator which variable, and charges nothing', async () => {
    const { auth } = await customer(undefined, 100);
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      const res = await withVars({ ENVIRONMENT: 'production', PUBLIC_BASE_URL: '' }, '/api/v1/images/generations', {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json', host: 'evil.example.net' },
        body: JSON.stringify({ model: 'flux-2', prompt: 'A lighthouse on a forged host' }),
      });
      expect(res.status).toBe(500);
      expect((await res.json<{ error: { code: string } }>()).error.code).toBe('internal_error');
      expect(JSON.stringify(logged.mock.calls.map((call) => call[0]))).toContain('PUBLIC_BASE_URL is empty');
    } finally {
      logged.mockRestore();
    }
    expect(await balance(auth)).toMatchObject({ balance: 100, reserved: 0 });
  });
});
