import { z } from '@hono/zod-openapi';

/**
 * In the order a task moves through them: `pending` (accepted), `queued` (waiting for provider
 * capacity; may be skipped), `processing` (a provider is generating it), then one final status.
 */
export const TASK_STATUSES = ['pending', 'queued', 'processing', 'succeeded', 'failed', 'canceled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const isTerminal = (status: TaskStatus): boolean =>
  status === 'succeeded' || status === 'failed' || status === 'canceled';

/** Request fields are flat: scalars and lists of strings (URLs). Keeping it flat keeps RPC types shallow. */
export const InputValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.string())]);
export type InputValue = z.infer<typeof InputValueSchema>;
export type TaskRequest = { [field: string]: InputValue };

export const ImageSchema = z.object({
  url: z.string().openapi({ description: 'Served by this Worker; needs no Authorization header.' }),
  width: z.number().int(),
  height: z.number().int(),
  content_type: z.string(),
});

export const WebhookStateSchema = z
  .object({
    url: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int(),
    last_status_code: z.number().int().nullable(),
    last_error: z.string().nullable(),
    next_attempt_at: z.string().nullable(),
  })
  .openapi('WebhookState');

export const TaskSchema = z
  .object({
    task_id: z.string().openapi({ example: 'task_3hG5vQ0kVn1yWm8ZrTq2bC' }),
    status: z.enum(TASK_STATUSES),
    queue_position: z
      .number()
      .int()
      .min(1)
      .optional()
      .openapi({ description: 'Only while `queued`: the place in the queue for provider capacity, 1 = next. It only goes down.' }),
    model: z.string().openapi({ example: 'flux-2' }),
    input: z.record(z.string(), InputValueSchema),
    credits: z.number().int().openapi({ description: 'Credits charged; 0 once a failed task is refunded.' }),
    output: z.object({ images: z.array(ImageSchema) }).nullable(),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    callback_url: z.string().nullable(),
    webhook: WebhookStateSchema.nullable(),
    provider: z.string().nullable().openapi({ description: 'Provider adapter that served the task.' }),
    node: z.string().nullable().openapi({ description: 'Backend node that served the task.' }),
    created_at: z.string(),
    updated_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .openapi('Task');

export type TaskView = z.infer<typeof TaskSchema>;
export type WebhookState = z.infer<typeof WebhookStateSchema>;
export type StoredImage = z.infer<typeof ImageSchema>;

export const TaskCreatedSchema = TaskSchema.pick({
  task_id: true,
  status: true,
  model: true,
  credits: true,
  created_at: true,
}).openapi('TaskCreated');
