import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import devVarsExample from '../../.dev.vars.example?raw';
import wranglerToml from '../../wrangler.toml?raw';
import { MODELS } from '../../src/catalog';
import { ADAPTERS, PROVIDERS } from '../../src/providers';

/** The `NAME = "value"` lines of one `[section]` of wrangler.toml. */
function tomlSection(toml: string, section: string): Map<string, string> {
  const body = toml.split(/^\[/m).find((part) => part.startsWith(`${section}]`)) ?? '';
  return new Map([...body.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"\s*$/gm)].map(([, name, value]) => [name!, value!]));
}

/** The variable names `NAME=value` of a .dev.vars file. */
const dotenvNames = (text: string): string[] => [...text.matchAll(/^([A-Z0-9_]+)=/gm)].map(([, name]) => name!);

describe('PROVIDERS, declared by the adapters', () => {
  it('lists each provider once, from every adapter', () => {
    expect(new Set(PROVIDERS.map((p) => p.id)).size).toBe(PROVIDERS.length);
    for (const adapter of ADAPTERS) expect(PROVIDERS).toContain(adapter.provider);
    expect(PROVIDERS.map((p) => p.id).sort()).toEqual(['bfl', 'ideogram', 'imagen', 'openai', 'recraft', 'wavespeed', 'xai']);
  });

  it('covers every backend node of the catalog', () => {
    for (const node of MODELS.flatMap((m) => m.nodes)) {
      expect(PROVIDERS).toContainEqual(expect.objectContaining({ id: node.provider, secret: node.secret }));
    }
  });

  it("is what wrangler.toml's [vars] give as production base URLs, with no other *_BASE_URL", () => {
    const vars = tomlSection(wranglerToml, 'vars');
    // PUBLIC_BASE_URL is the origin of our own result URLs, not a provider's.
    const baseUrls = Object.fromEntries([...vars].filter(([name]) => name.endsWith('_BASE_URL') && name !== 'PUBLIC_BASE_URL'));
    expect(baseUrls).toEqual(Object.fromEntries(PROVIDERS.map((p) => [p.baseUrlVar, p.defaultBaseUrl])));
    for (const p of PROVIDERS) expect(p.defaultBaseUrl).toMatch(/^https:\/\/[^/]+$/);
  });

  it('names every key secret in wrangler.toml, and gives each one a placeholder in .dev.vars.example', () => {
    const keys = dotenvNames(devVarsExample).filter((name) => name.endsWith('_API_KEY'));
    expect(keys.sort()).toEqual(PROVIDERS.map((p) => p.secret).sort());
    for (const p of PROVIDERS) expect(wranglerToml).toMatch(new RegExp(`^#\\s+${p.secret}\\s`, 'm'));
  });

  it('is what the test config points at the simulator (vitest.config.ts builds the bindings from it)', () => {
    for (const p of PROVIDERS) {
      expect(env[p.baseUrlVar]).toBe(env.SIMULATOR_URL);
      expect(env[p.secret]).toBeTruthy();
    }
  });
});
