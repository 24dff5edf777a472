import type { z } from '@hono/zod-openapi';
import type { Json, ProviderAdapter, ProviderCall, ProviderSecret, ProviderStep } from '../providers/types';

/** One backend node serving a model: a provider adapter plus how this model's input becomes its job. */
export interface BackendNode<Input = unknown> {
  /** The node name the product page shows, e.g. `node41`. */
  readonly id: string;
  readonly provider: string;
  readonly secret: ProviderSecret;
  submit(input: Input, call: ProviderCall): Promise<ProviderStep>;
  poll(handle: Json, call: ProviderCall): Promise<ProviderStep>;
}

/** Binds an adapter to a model: the only place a model's fields meet a provider's. */
export function backendNode<Input, Job>(
  id: string,
  adapter: ProviderAdapter<Job>,
  toJob: (input: Input) => Job,
): BackendNode<Input> {
  return {
    id,
    provider: adapter.id,
    secret: adapter.secret,
    submit: (input, call) => adapter.submit(toJob(input), call),
    poll: (handle, call) => adapter.poll(handle, call),
  };
}

/** A row of a model's price table: the first row whose `when` fields all equal the request's wins. */
export interface PriceRow {
  when: Record<string, string>;
  credits: number;
}

export interface ModelEntry<Schema extends z.ZodObject = z.ZodObject> {
  id: string;
  display_name: string;
  description: string;
  /** The upstream company as the product page names it. */
  provider: string;
  runtime: 'async';
  input_kinds: ReadonlyArray<'text' | 'image'>;
  output_kind: 'image';
  /** The whole request body for this model, `model` literal included; strict, defaults applied. */
  schema: Schema;
  prices: PriceRow[];
  /**
   * The request field holding how many images one task makes, for models that can make several;
   * prices are per image, so the task costs the price row times this count.
   */
  count_field?: string;
  /** Tried in order; a node failing with a retryable error hands the task to the next. */
  nodes: BackendNode<z.infer<Schema>>[];
}

/** Keeps each entry's schema, prices and nodes type-checked against each other. */
export function defineModel<Schema extends z.ZodObject>(entry: ModelEntry<Schema>): ModelEntry {
  return entry as unknown as ModelEntry;
}
