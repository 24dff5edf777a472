import type { Answer, Gateway } from './gateway';
import { sleep } from './gateway';
import type { PlannedTask, PlannedTopUp } from './plan';

/** What the client learned of one planned task, and the contract breaches it met on the way. */
export interface ClientTask {
  marker: string;
  index: number;
  account: number;
  model: string;
  fault: string;
  viaOpenAI: boolean;
  receiver: string | null;
  task_id: string | null;
  /** `unknown`: no answer (a kill cut it); the task, if any, is found by listing at the end. */
  creation: 'created' | 'refused' | 'unknown' | 'rejected';
  /** Credits the accepted creation announced. */
  price: number | null;
  cancel: 'none' | 'canceled' | 'refused' | 'unknown';
  /** Statuses seen, in order, without repeats. */
  statuses: string[];
  violations: string[];
}

export interface Customer {
  accountId: string;
  auth: Record<string, string>;
}

const ORDER = ['pending', 'queued', 'processing', 'succeeded', 'failed', 'canceled'];
const isFinal = (status: string) => status === 'succeeded' || status === 'failed' || status === 'canceled';
const KEY_RETRY_MS = 5 * 60_000;

function body(answer: Answer): Record<string, unknown> {
  return answer.ok && answer.json && typeof answer.json === 'object' ? (answer.json as Record<string, unknown>) : {};
}

/**
 * One planned task's life from the customer's side: create it (with its key, duplicates, replay and
 * `Prefer: wait` as planned), cancel it if planned, and poll it until it is final or its deadline
 * and grace have passed. Requests without an answer are retried where a customer could safely retry
 * (a keyed create, a cancel, a read); an unkeyed create without an answer is left to the end of the
 * run, which lists the account's tasks.
 */
export async function runTask(
  gateway: Gateway,
  customer: Customer,
  planned: PlannedTask,
  callbackUrl: string | null,
  giveUpAt: number,
): Promise<ClientTask> {
  const record: ClientTask = {
    marker: planned.marker,
    index: planned.index,
    account: planned.account,
    model: planned.model,
    fault: planned.fault,
    viaOpenAI: planned.viaOpenAI,
    receiver: planned.webhook?.kind ?? null,
    task_id: null,
    creation: 'unknown',
    price: null,
    cancel: 'none',
    statuses: [],
    violations: [],
  };
  const see = (task: Record<string, unknown>, where: string) => {
    const status = String(task.status);
    const last = record.statuses.at(-1);
    if (status === last) return;
    if (last !== undefined && (ORDER.indexOf(status) < ORDER.indexOf(last) || isFinal(last))) {
      record.violations.push(`status went from ${last} to ${status} (${where})`);
    }
    record.statuses.push(status);
  };
  const requestBody = { ...planned.body, ...(callbackUrl ? { callback_url: callbackUrl } : {}) };
  const headers: Record<string, string> = {
    ...customer.auth,
    ...(planned.idempotency ? { 'idempotency-key': planned.idempotency.key } : {}),
    ...(planned.waitS ? { prefer: `wait=${planned.waitS}` } : {}),
  };
  const create = (json: unknown = requestBody) =>
    gateway.call('POST', '/api/v1/images/generations', { headers, json, timeoutMs: ((planned.waitS ?? 0) + 30) * 1000 });

  /** Reads an accepted creation's answer; returns the task id. */
  const accepted = (answer: Answer & { ok: true }, replay: boolean): string | null => {
    const task = body(answer);
    const id = typeof task.task_id === 'string' ? task.task_id : null;
    if (!id) {
      record.violations.push(`creation answered ${answer.status} without a task_id: ${answer.text.slice(0, 200)}`);
      return null;
    }
    if (planned.waitS && answer.headers.get('preference-applied') !== `wait=${planned.waitS}` && !replay) {
      record.violations.push(`Prefer: wait=${planned.waitS} answered without Preference-Applied`);
    }
    if (answer.status === 200 && !isFinal(String(task.status))) record.violations.push(`200 to Prefer: wait with status ${String(task.status)}`);
    if (typeof task.credits === 'number' && record.price === null && !isFinal(String(task.status))) record.price = task.credits;
    see(task, `create ${answer.status}`);
    return id;
  };

  if (planned.viaOpenAI) {
    await createThroughOpenAI(gateway, customer, planned, record, giveUpAt, see);
  } else if (!planned.idempotency) {
    // A refused connection never reached the Worker: safe to send again even without a key.
    let answer = await create();
    while (!answer.ok && answer.error.includes('ECONNREFUSED') && Date.now() < giveUpAt) {
      await sleep(1000 + Math.random() * 1000);
      answer = await create();
    }
    if (answer.ok) {
      if (answer.status === 202 || answer.status === 200) {
        record.task_id = accepted(answer, false);
        record.creation = 'created';
      } else if (answer.status === 402) record.creation = 'refused';
      else if (answer.status < 500) {
        record.creation = 'rejected';
        record.violations.push(`creation answered ${answer.status}: ${answer.text.slice(0, 200)}`);
      }
    }
  } else {
    const ids = new Set<string>();
    const until = Date.now() + KEY_RETRY_MS;
    let first = true;
    while (ids.size === 0 && record.creation === 'unknown' && Date.now() < until) {
      const answers = await Promise.all(Array.from({ length: first ? planned.idempotency.concurrent : 1 }, () => create()));
      first = false;
      for (const answer of answers) {
        if (!answer.ok) continue;
        if (answer.status === 200 || answer.status === 202) {
          const id = accepted(answer, answer.headers.get('idempotent-replayed') === 'true');
          if (id) ids.add(id);
        } else if (answer.status === 402) record.creation = 'refused';
        else if (answer.status === 409) {
          if (!answer.headers.get('retry-after')) record.violations.push('409 to a key in flight without Retry-After');
        } else if (answer.status < 500) {
          record.violations.push(`keyed creation answered ${answer.status}: ${answer.text.slice(0, 200)}`);
          record.creation = 'rejected';
        }
      }
      if (ids.size === 0 && record.creation === 'unknown') await sleep(1000 + Math.random() * 1000);
    }
    if (ids.size > 1) record.violations.push(`one Idempotency-Key created ${ids.size} tasks: ${[...ids].join(', ')}`);
    if (ids.size > 0) {
      record.creation = 'created';
      record.task_id = [...ids][0]!;
      await checkKeyAgain(planned, record, create, requestBody, until);
    }
  }
  if (!record.task_id) return record;
  const taskPath = `/api/v1/tasks/${record.task_id}`;

  if (planned.cancelAfterMs !== null) {
    await sleep(planned.cancelAfterMs);
    for (let attempt = 0; attempt < 20 && record.cancel === 'none' && Date.now() < giveUpAt; attempt++) {
      const answer = await gateway.call('POST', `${taskPath}/cancel`, { headers: customer.auth });
      if (!answer.ok || answer.status >= 500) {
        await sleep(2000);
        continue;
      }
      const task = body(answer);
      if (answer.status === 200) {
        record.cancel = 'canceled';
        if (task.status !== 'canceled' || task.credits !== 0) {
          record.violations.push(`cancel answered 200 with status ${String(task.status)} and credits ${String(task.credits)}`);
        }
        see(task, 'cancel 200');
      } else if (answer.status === 409) {
        record.cancel = 'refused';
      } else {
        record.cancel = 'refused';
        record.violations.push(`cancel answered ${answer.status}: ${answer.text.slice(0, 200)}`);
      }
    }
    if (record.cancel === 'none') record.cancel = 'unknown';
  }

  while (!isFinal(record.statuses.at(-1) ?? 'pending') && Date.now() < giveUpAt) {
    await sleep(3000 + Math.random() * 2000);
    const answer = await gateway.call('GET', taskPath, { headers: customer.auth });
    if (!answer.ok || answer.status >= 500) continue;
    if (answer.status !== 200) {
      record.violations.push(`GET task answered ${answer.status}: ${answer.text.slice(0, 200)}`);
      break;
    }
    see(body(answer), 'poll');
  }
  return record;
}

/**
 * A creation through the OpenAI-compatible route: it answers once the task ends (or its wait limit
 * passes) in OpenAI's statuses, naming the task in `x-task-id`. 502 (`provider_error`) and 504
 * (`wait_timeout`) are the contract's answers there, not failures of the Worker.
 */
async function createThroughOpenAI(
  gateway: Gateway,
  customer: Customer,
  planned: PlannedTask,
  record: ClientTask,
  giveUpAt: number,
  see: (task: Record<string, unknown>, where: string) => void,
): Promise<void> {
  const { input_urls: _input, ...fields } = planned.body;
  let answer: Answer;
  do {
    answer = await gateway.call('POST', '/v1/images/generations', {
      headers: customer.auth,
      json: { ...fields, response_format: 'url' },
      timeoutMs: 120_000,
    });
    if (answer.ok || !answer.error.includes('ECONNREFUSED')) break;
    await sleep(1000 + Math.random() * 1000);
  } while (Date.now() < giveUpAt);
  if (!answer.ok) return;
  const taskId = answer.headers.get('x-task-id');
  const code = String((body(answer).error as { code?: unknown } | undefined)?.code ?? '');
  const expected =
    (answer.status === 200 && Array.isArray(body(answer).data)) ||
    (answer.status === 400 && code === 'moderation_blocked') ||
    (answer.status === 409 && taskId !== null) ||
    (answer.status === 502 && code === 'provider_error') ||
    (answer.status === 504 && code === 'wait_timeout');
  if (answer.status === 429 && code === 'insufficient_quota') {
    record.creation = 'refused';
    return;
  }
  if (!expected) record.violations.push(`POST /v1/images/generations answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  if (taskId) {
    record.task_id = taskId;
    record.creation = 'created';
    if (answer.status === 200) see({ status: 'succeeded' }, 'OpenAI route 200');
  } else if (answer.status !== 400) {
    record.violations.push(`POST /v1/images/generations answered ${answer.status} without x-task-id`);
  }
}

/** The planned replay (same key and body: the same task, marked replayed) and reuse (another body: 422). */
async function checkKeyAgain(
  planned: PlannedTask,
  record: ClientTask,
  create: (json?: unknown) => Promise<Answer>,
  requestBody: Record<string, unknown>,
  until: number,
): Promise<void> {
  const again = async (json: unknown): Promise<Answer> => {
    for (;;) {
      const answer = await create(json);
      if ((answer.ok && answer.status !== 409 && answer.status < 500) || Date.now() > until) return answer;
      await sleep(1500);
    }
  };
  if (planned.idempotency?.replay) {
    const answer = await again(requestBody);
    if (answer.ok) {
      const replayed = body(answer).task_id;
      if (replayed !== record.task_id) record.violations.push(`replay of the key answered ${answer.status} with task ${String(replayed)}`);
      else if (answer.headers.get('idempotent-replayed') !== 'true') record.violations.push('replay without Idempotent-Replayed: true');
    }
  }
  if (planned.idempotency?.reuseWithOtherBody) {
    const answer = await again({ ...requestBody, prompt: `${String(requestBody.prompt)} (another body)` });
    if (answer.ok && answer.status !== 422) record.violations.push(`the key with another body answered ${answer.status}, not 422`);
  }
}

/** A top-up sent `repeats` times with one reference, two at once, each retried until answered. */
export async function runTopUp(gateway: Gateway, internal: Record<string, string>, accountId: string, topUp: PlannedTopUp): Promise<string[]> {
  const problems: string[] = [];
  const send = async () => {
    for (let attempt = 0; attempt < 60; attempt++) {
      const answer = await gateway.call('POST', `/internal/v1/accounts/${accountId}/credits`, {
        headers: internal,
        json: { amount: topUp.amount, reference: topUp.reference },
      });
      if (answer.ok && answer.status < 500) {
        if (answer.status !== 200) problems.push(`top-up ${topUp.reference} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
        return;
      }
      await sleep(1000);
    }
    problems.push(`top-up ${topUp.reference} got no answer in 60 tries`);
  };
  for (let i = 0; i < topUp.repeats; i += 2) await Promise.all([send(), ...(i + 1 < topUp.repeats ? [send()] : [])]);
  return problems;
}
