import type { z } from '@hono/zod-openapi';
import type { ProviderAdapter } from '../providers/adapter';
import { pollJob, submitJob } from '../providers/exchange';
import type { Json, ProviderCall, ProviderSecret, ProviderStep } from '../providers/types';

interface NodeBase<Input> {
  /** The node name the product page shows, e.g. `node41`. */
  readonly id: string;
  readonly provider: string;
  readonly secret: ProviderSecret;
  // Method syntax on purpose: its parameter is bivariant, so one model's entry is a `ModelEntry`
  // without a cast in `defineModel` (the input was checked by that model's schema).
  submit(input: Input, call: ProviderCall): Promise<ProviderStep>;
}

/** A node whose provider answers the submit with the result: there is nothing to poll. */
export interface SyncNode<Input = unknown> extends NodeBase<Input> {
  readonly mode: 'sync';
}

/** A node whose provider answers the submit with a job, polled by its handle until it ends. */
export interface AsyncNode<Input = unknown> extends NodeBase<Input> {
  readonly mode: 'async';
  poll(handle: Json, call: ProviderCall): Promise<ProviderStep>;
}

/** One backend node serving a model: a provider adapter plus how this model's input becomes its job. */
export type BackendNode<Input = unknown> = SyncNode<Input> | AsyncNode<Input>;

/** Binds an adapter to a model: the only place a model's fields meet a provider's. */
export function backendNode<Input, Job>(id: string, adapter: ProviderAdapter<Job>, toJob: (input: Input) => Job): BackendNode<Input> {
  const node = {
    id,
    provider: adapter.provider.id,
    secret: adapter.provider.secret,
    submit: (input: Input, call: ProviderCall) => submitJob(adapter, toJob(input), call),
  };
  if (adapter.mode === 'sync') return { ...node, mode: 'sync' };
  return { ...node, mode: 'async', poll: (handle: Json, call: ProviderCall) => pollJob(adapter, handle, call) };
}

/** A row of a model's price table: the first row whose `when` fields all equal the request's wins. */
export interface PriceRow {
  when: Record<string, string>;
  credits: number;
}

/** One output size a model renders, and the values of its request fields that ask for it. */
export interface OutputSize {
  fields: Readonly<Record<string, string>>;
  width: number;
  height: number;
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
  /**
   * Every size the model renders, with the field values (`aspect_ratio`, `resolution`, `size`) that
   * select it: the provider's pixels where it publishes them, else the nominal ones. Callers that ask
   * by pixels (`size: "1536x1024"` on the OpenAI-compatible routes) are mapped onto these fields.
   */
  output_sizes?: readonly OutputSize[];
  /** Tried in order; a node failing with a retryable error hands the task to the next. */
  nodes: BackendNode<z.infer<Schema>>[];
}

/** Keeps each entry's schema, prices and nodes type-checked against each other. */
export function defineModel<Schema extends z.ZodObject>(entry: ModelEntry<Schema>): ModelEntry {
  return entry;
}
