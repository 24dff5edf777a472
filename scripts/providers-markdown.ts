import { ADAPTERS, PROVIDERS } from '../src/providers';
import type { ProviderFacts, Sourced } from '../src/providers/adapter';
import type { ProviderInfo } from '../src/providers/types';

const code = (value: string) => `\`${value}\``;
/** Text for a table cell: pipes escaped, angle brackets shown rather than read as HTML. */
const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('\n', ' ');

function factsOf(provider: ProviderInfo): ProviderFacts {
  if (!provider.facts) throw new Error(`${provider.id} declares no facts (provider.facts in its adapter)`);
  return provider.facts;
}

/** What the contract tests check of the answers, by whether the provider's jobs are polled. */
function answersChecked(provider: ProviderInfo): string {
  const polled = ADAPTERS.some((a) => a.provider.id === provider.id && a.mode === 'async');
  const common = 'success, every simulator fault switch, a refused key';
  return polled ? `${common}, pending, unknown and SDK-only statuses, a lost job; every published status handled` : common;
}

const seconds = (s: number) => (s >= 2 * 86400 ? `${s / 86400} days` : s >= 3600 ? `${s / 3600} h` : `${s / 60} min`);

function limitsOf(facts: ProviderFacts): string {
  const { limits } = facts;
  const parts: string[] = [];
  const add = (label: string, fact: Sourced<unknown> | undefined, show = (v: unknown) => String(v)) => {
    if (fact) parts.push(`${label} ${show(fact.value)}`);
  };
  add('concurrent jobs', limits.concurrentJobs);
  add('images/min', limits.imagesPerMinute);
  add('images/request', limits.imagesPerRequest);
  add('reference images', limits.referenceImages);
  add('result URLs', limits.resultUrlLifetimeSeconds, (v) => seconds(v as number));
  add('poll ≥', limits.minPollIntervalMs, (v) => `${(v as number) / 1000} s`);
  add('replay a submit after 5xx:', limits.replaySubmitAfter5xx, (v) => (v ? 'yes' : 'no'));
  if (limits.tiers) parts.push(`tiers: ${Object.entries(limits.tiers.value).map(([t, l]) => `${t} ${l.concurrentJobs}/${l.imagesPerMinute}`).join(', ')}`);
  if (limits.unpublished?.length) parts.push(`unpublished: ${limits.unpublished.join('; ')}`);
  return parts.join('; ');
}

/**
 * The README's providers section, generated from the adapters' declarations (`provider.facts`) so it
 * cannot drift from what the contract tests hold the adapters to; `npm run docs` writes it and a
 * test checks that README.md holds it.
 */
export function providersMarkdown(): string {
  const contract = [
    '| provider | source of truth | read on | requests validated | answers validated | facts still unconfirmed (safe handling) |',
    '|---|---|---|---|---|---|',
    ...PROVIDERS.map((p) => {
      const facts = factsOf(p);
      const unconfirmed = facts.unconfirmed.length === 0 ? ['none'] : facts.unconfirmed.map((f) => cell(`${f.fact} → ${f.safeHandling}`));
      const availability = facts.availability ? [`**${cell(facts.availability.value)}**`] : [];
      return `| ${code(p.id)} | ${cell(facts.description.source)} (${code(facts.description.fixture)}) | ${facts.description.readOn} | ${facts.endpoints.map(code).join(', ')}, for every catalog option | ${answersChecked(p)} | ${[...availability, ...unconfirmed].join('<br>')} |`;
    }),
  ].join('\n');
  const limits = [
    '| provider | published limits | callbacks |',
    '|---|---|---|',
    ...PROVIDERS.map((p) => {
      const facts = factsOf(p);
      const hooks = facts.webhooks.value;
      const callbacks = hooks.supported ? [hooks.how, hooks.verification].filter(Boolean).join('; ') : `none${hooks.how ? `: ${hooks.how}` : ''}`;
      return `| ${code(p.id)} | ${cell(limitsOf(facts))} | ${cell(callbacks)} |`;
    }),
  ].join('\n');
  return [
    '### Providers, checked against their published API descriptions',
    '',
    'Each adapter declares where its provider describes its API, which endpoints it calls, the limits the provider ' +
      'publishes (each with its source, in `provider.facts`) and what it relies on without a source. ' +
      '`test/providers/contract/` checks every request the adapters build and every answer the simulator gives against ' +
      'the descriptions kept in `test/fixtures/providers/`, and proves the safe handling of each unconfirmed fact.',
    '',
    contract,
    '',
    limits,
  ].join('\n');
}
