import { z } from '@hono/zod-openapi';
import { WEBHOOK_SECRET_PATTERN, type WebhookSecrets } from './webhook-secrets';

/** How long a rotated-out secret keeps signing when the BFF does not say. */
export const DEFAULT_ROTATION_GRACE_S = 24 * 3600;
const MAX_ROTATION_GRACE_S = 7 * 24 * 3600;

export const WebhookSecretSchema = z
  .object({
    secret: z.string().regex(WEBHOOK_SECRET_PATTERN).openapi({
      description: 'The current signing secret: `whsec_` followed by base64 of 32 random bytes.',
      example: 'whsec_q3Jx0cV9m1Hk2Lr8TzW4pYb6Ns5Ue7Da0Gf1Ih2Kj3E=',
    }),
    created_at: z.string(),
    previous: z
      .array(z.object({ created_at: z.string(), expires_at: z.string() }))
      .openapi({ description: 'Rotated-out secrets that still sign deliveries (beside the current one) until `expires_at`.' }),
  })
  .openapi('WebhookSecret');

export const RotatedWebhookSecretSchema = WebhookSecretSchema.extend({ account_id: z.string() }).openapi('RotatedWebhookSecret');

export const RotateWebhookSecretSchema = z
  .object({
    grace_seconds: z
      .number({ error: 'must be a number' })
      .int('must be an integer')
      .min(0, 'must be at least 0')
      .max(MAX_ROTATION_GRACE_S, `must be at most ${MAX_ROTATION_GRACE_S}`)
      .optional()
      .openapi({ description: `How long the old secret keeps signing too; default ${DEFAULT_ROTATION_GRACE_S} (24 h), 0 retires it at once.` }),
  })
  .strict()
  .openapi('RotateWebhookSecret');

/** What the account's secrets look like from outside: retired secrets are listed by their dates only. */
export function publicWebhookSecret(secrets: WebhookSecrets): z.infer<typeof WebhookSecretSchema> {
  return {
    secret: secrets.current.secret,
    created_at: secrets.current.created_at,
    previous: secrets.previous.map(({ created_at, expires_at }) => ({ created_at, expires_at })),
  };
}
