import type { GenerationRequest, TaskWebhook } from '../src';

/**
 * Compile-time checks of the generated types, type-checked by `npm test` and `npm run typecheck`
 * (`tsc -p client/tsconfig.json`): each `@ts-expect-error` fails the build if its line stops being an error.
 */

// Only the required fields: the defaulted ones (aspect_ratio, type, resolution for flux-2) may be left out.
export const minimal = { model: 'flux-2', prompt: 'A lantern in the fog' } satisfies GenerationRequest;

// The model's own fields, with their values checked against the model.
export const full = { model: 'flux-2', prompt: 'A lantern in the fog', aspect_ratio: '16:9', type: 'flex', resolution: '2K' } satisfies GenerationRequest;

// @ts-expect-error -- prompt is required
export const noPrompt = { model: 'flux-2' } satisfies GenerationRequest;

// @ts-expect-error -- flux-2 has no 8K resolution
export const badValue = { model: 'flux-2', prompt: 'A lantern in the fog', resolution: '8K' } satisfies GenerationRequest;

// @ts-expect-error -- unknown fields are refused, as the Worker refuses them
export const unknownField = { model: 'flux-2', prompt: 'A lantern in the fog', colour: 'red' } satisfies GenerationRequest;

// A webhook's task has every field the task route answers with.
export const finishedAt = (task: TaskWebhook): string | null => task.completed_at;
