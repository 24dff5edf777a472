/** The few gateway calls the bench makes outside the load generator, over plain fetch. */

export interface TaskSeen {
  task_id: string;
  status: string;
  created_at: string;
  completed_at: string | null;
}

export interface Customer {
  accountId: string;
  /** `Authorization` header with the account's fresh API key. */
  auth: Record<string, string>;
}

async function expectJson<T>(res: Response, status: number, what: string): Promise<T> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** Mints a key for `accountId` and tops the account up by `credits` (if any), through the internal routes. */
export async function newCustomer(origin: string, internalToken: string, accountId: string, credits: number): Promise<Customer> {
  const internal = { authorization: `Bearer ${internalToken}`, 'content-type': 'application/json' };
  const key = await expectJson<{ api_key: string }>(
    await fetch(`${origin}/internal/v1/accounts/${accountId}/keys`, { method: 'POST', headers: internal }),
    201,
    'minting a key',
  );
  if (credits > 0) {
    await expectJson(
      await fetch(`${origin}/internal/v1/accounts/${accountId}/credits`, {
        method: 'POST',
        headers: internal,
        body: JSON.stringify({ amount: credits, reference: `bench-${accountId}` }),
      }),
      200,
      'topping up',
    );
  }
  return { accountId, auth: { authorization: `Bearer ${key.api_key}` } };
}

/** Creates a task (plus any `headers`, e.g. an `Idempotency-Key`), expecting the plain `202`. */
export async function createTask(
  origin: string,
  customer: Customer,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<TaskSeen> {
  const res = await fetch(`${origin}/api/v1/images/generations`, {
    method: 'POST',
    headers: { ...customer.auth, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return expectJson<TaskSeen>(res, 202, 'creating a task');
}

export async function getTask(origin: string, customer: Customer, taskId: string): Promise<TaskSeen> {
  return expectJson<TaskSeen>(await fetch(`${origin}/api/v1/tasks/${taskId}`, { headers: customer.auth }), 200, `reading ${taskId}`);
}

/** Polls until `accept` likes the task, or throws after `timeoutMs`. */
export async function waitForTask(
  origin: string,
  customer: Customer,
  taskId: string,
  accept: (task: TaskSeen) => boolean,
  timeoutMs: number,
): Promise<TaskSeen> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const task = await getTask(origin, customer, taskId);
    if (accept(task)) return task;
    if (Date.now() > until) throw new Error(`task ${taskId} still ${task.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
