/**
 * The `zod` of the Worker bundle. `wrangler.toml`'s `[alias]` hands this file to every `import … from 'zod'`
 * wrangler bundles (ours and @hono/zod-openapi's); TypeScript and the vitest pool still see the real package.
 *
 * Why: @hono/zod-openapi calls `extendZodWithOpenApi(z)` with zod's whole `z` namespace, and a namespace
 * used as a value keeps every one of its exports in the bundle: `z.locales` (64 languages, 260 KiB),
 * `z.core`, `z.compile` (a schema compiler, 31 KiB), `z.fromJSONSchema` and every schema type we never build.
 * This `z` holds what the Worker calls and nothing else, which halves the bundle. Error messages do not
 * change: zod installs its English locale itself when the first schema is constructed (in `ZodType`), not
 * through `z.locales`.
 *
 * A `z.something` missing here would be `undefined` in the deployed Worker only, so `npm test` runs
 * `scripts/check-zod-lean.ts`, which fails when src/ calls a `z.…` this object lacks. Add it here when it does.
 * The import is `zod/v4`, the same module files as `zod`, because `zod` itself is aliased to this file.
 */
import * as zod from 'zod/v4';

export const z = {
  array: zod.array,
  boolean: zod.boolean,
  custom: zod.custom,
  discriminatedUnion: zod.discriminatedUnion,
  enum: zod.enum,
  literal: zod.literal,
  NEVER: zod.NEVER,
  null: zod.null,
  number: zod.number,
  object: zod.object,
  record: zod.record,
  string: zod.string,
  toJSONSchema: zod.toJSONSchema,
  union: zod.union,
  unknown: zod.unknown,
  /** @hono/zod-openapi adds `.openapi()` to `z.ZodType.prototype`. */
  ZodType: zod.ZodType,
};

export default z;
