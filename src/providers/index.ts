import { bflAdapter } from './bfl.adapter';
import { ideogramAdapter, ideogramAsyncAdapter } from './ideogram.adapter';
import { imagenAdapter } from './imagen.adapter';
import { openaiAdapter } from './openai.adapter';
import { recraftAdapter } from './recraft.adapter';
import type { ProviderInfo } from './types';
import { wavespeedAdapter } from './wavespeed.adapter';
import { xaiAdapter } from './xai.adapter';

/**
 * Every adapter. This module and the adapters it imports must stay free of I/O and of
 * `cloudflare:workers`: vitest.config.ts and scripts/dev.ts import it in Node to read `PROVIDERS`.
 * The calls live in `exchange.ts`, which only the catalog's backend nodes import.
 */
export const ADAPTERS = [
  bflAdapter,
  wavespeedAdapter,
  xaiAdapter,
  openaiAdapter,
  imagenAdapter,
  ideogramAdapter,
  ideogramAsyncAdapter,
  recraftAdapter,
] as const;

/**
 * Every provider API once, as its adapters declare it (id, base-URL variable, key secret, production
 * base URL): what wrangler.toml, `.dev.vars.example`, the test config and `npm run dev` derive from
 * or are checked against.
 */
export const PROVIDERS: readonly ProviderInfo[] = [...new Map(ADAPTERS.map((a) => [a.provider.id, a.provider])).values()];
