import type { Config } from '../config';
import { PROVIDERS } from '../providers';

/** Slots for a provider that declares none (none should: every adapter states its `slots`). */
export const FALLBACK_SLOTS = 2;

/**
 * The capacity pool of a provider account: one per provider, since each provider has one API key
 * (its secret); all of its backend nodes share the account's limit.
 */
export const poolOf = (provider: string): string => provider;

/** The configured cap of a pool: the `PROVIDER_CAPACITY` override, else the provider's declared default. */
export function slotsFor(config: Config, pool: string): number {
  const declared = PROVIDERS.find((provider) => provider.id === pool)?.facts?.limits.slots?.value;
  return config.providerSlots[pool] ?? declared ?? FALLBACK_SLOTS;
}
