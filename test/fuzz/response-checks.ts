import type { Operation } from './openapi-doc';
import { expectedStatuses, type Plan } from './request-plan';

/**
 * What every answer must be, from ../shared/API-CONTRACT.md ("Errors"): never a 5xx but a documented
 * 503 `provider_unavailable`; every status >= 400 in the one envelope with a code of the contract's
 * list and its status; validation 400s naming the field; an `x-request-id` on everything; and a status
 * the operation documents.
 */

/** The contract's error codes and the status each goes with. */
export const CONTRACT_CODES: Readonly<Record<string, number>> = {
  invalid_json: 400,
  invalid_request: 400,
  unauthorized: 401,
  insufficient_credits: 402,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  idempotency_key_reused: 422,
  rate_limited: 429,
  internal_error: 500,
  provider_unavailable: 503,
};

/**
 * The OpenAI-compatible routes (`/v1/…`) answer in OpenAI's statuses so its SDKs raise their own classes
 * (contract, "OpenAI-compatible routes"): out of credits is 429 `insufficient_quota`, refused content
 * 400 `moderation_blocked`, a provider failure 502 and a generation still running 504.
 */
const OPENAI_CODES: Readonly<Record<string, number>> = { insufficient_quota: 429, moderation_blocked: 400, provider_error: 502, wait_timeout: 504 };
const OPENAI_5XX = new Set([502, 504]);

export interface Outcome {
  status: number;
  headers: Headers;
  text: string;
}

interface ErrorEnvelope {
  error?: {
    type?: unknown;
    code?: unknown;
    message?: unknown;
    param?: unknown;
    details?: unknown;
    request_id?: unknown;
  };
}

const REQUEST_ID = /^[\w=-]{1,128}$/;

/** Whether the error names `field` (a dotted body path, a parameter or header name; '' the body, '*' any field). */
function namesField(field: string, param: unknown, details: unknown): boolean {
  const paths = [param, ...(Array.isArray(details) ? details.map((d: { path?: unknown }) => d?.path) : [])].filter(
    (p): p is string => typeof p === 'string',
  );
  if (field === '*') return paths.some((p) => p !== '');
  if (field === '') return Array.isArray(details) && details.length > 0;
  const f = field.toLowerCase();
  return paths.some((raw) => {
    const p = raw.toLowerCase();
    return p === f || (p !== '' && f.startsWith(`${p}.`)) || p.startsWith(`${f}.`);
  });
}

/** Which rule an answer broke; each is one test of the suite. */
export type Rule = 'no-5xx' | 'envelope' | 'names-field' | 'request-id' | 'documented' | 'refusal';

export interface Problem {
  rule: Rule;
  text: string;
}

/** Problems with one answer; empty when it is as the contract and the document say. */
export function checkResponse(plan: Plan, outcome: Outcome, onRoute: boolean): Problem[] {
  const problems: Problem[] = [];
  const add = (rule: Rule, text: string) => void problems.push({ rule, text });
  const { status, headers } = outcome;
  const op: Operation | null = plan.op;
  const isOpenAi = plan.path.startsWith('/v1/');

  const rid = headers.get('x-request-id');
  if (!rid) add('request-id', 'no x-request-id header');
  const sent = plan.headers.find(([k]) => k.toLowerCase() === 'x-request-id')?.[1]?.trim();
  if (rid && sent !== undefined) {
    if (REQUEST_ID.test(sent) && rid !== sent) {
      add('request-id', `x-request-id ${JSON.stringify(sent)} sent, ${JSON.stringify(rid)} answered`);
    }
    if (!REQUEST_ID.test(sent) && rid === sent) add('request-id', `x-request-id echoed a malformed value ${JSON.stringify(sent)}`);
  }

  const documented = op !== null && plan.kind === 'operation' && onRoute;
  if (documented && !op.documentsDefault && !op.statuses.has(status)) {
    add('documented', `undocumented status ${status} (documented: ${[...op.statuses].join(', ')})`);
  }

  let envelope: ErrorEnvelope | null = null;
  if (status >= 400) {
    try {
      envelope = JSON.parse(outcome.text) as ErrorEnvelope;
    } catch {
      add('envelope', `error body is not JSON: ${JSON.stringify(outcome.text.slice(0, 120))}`);
    }
  }
  const error = envelope?.error;
  if (status >= 500) {
    const allowed =
      documented &&
      op.statuses.has(status) &&
      ((status === 503 && error?.code === 'provider_unavailable') || (isOpenAi && OPENAI_5XX.has(status)));
    if (!allowed) add('no-5xx', `answered ${status}`);
  }
  if (envelope) {
    const type = headers.get('content-type') ?? '';
    if (!/^application\/json/i.test(type)) add('envelope', `error content-type ${type}`);
    if (typeof error !== 'object' || error === null) {
      add('envelope', 'no error envelope');
    } else {
      const codes = isOpenAi ? { ...CONTRACT_CODES, ...OPENAI_CODES } : CONTRACT_CODES;
      if (typeof error.type !== 'string' || error.type === '') add('envelope', 'error.type missing');
      if (typeof error.message !== 'string' || error.message === '') add('envelope', 'error.message missing');
      if (typeof error.code !== 'string' || !(error.code in codes)) {
        add('envelope', `error.code ${JSON.stringify(error.code)} is not one of the contract's`);
      } else if (codes[error.code] !== status && !(isOpenAi && OPENAI_5XX.has(status))) {
        add('envelope', `error.code ${error.code} goes with ${codes[error.code]}, answered ${status}`);
      }
      if (error.param !== undefined && error.param !== null && typeof error.param !== 'string') add('envelope', 'error.param is not a string');
      if (error.details !== undefined) {
        const entry = (d: { path?: unknown; message?: unknown }) => typeof d?.path === 'string' && typeof d?.message === 'string';
        if (!Array.isArray(error.details) || !error.details.every(entry)) add('envelope', 'error.details is not [{ path, message }]');
      }
      if (error.request_id !== rid) {
        add('envelope', `error.request_id ${JSON.stringify(error.request_id)} differs from x-request-id ${JSON.stringify(rid)}`);
      }
      if (status === 400 && error.code === 'invalid_request') {
        const hasDetails = Array.isArray(error.details) && error.details.length > 0;
        const field = plan.intent === 'invalid' && plan.defect && plan.defect.kind !== 'auth' ? plan.defect.field : null;
        if (!hasDetails && (typeof error.param !== 'string' || error.param === '')) {
          add('names-field', 'validation 400 names no field (no param, no details)');
        } else if (field !== null && !namesField(field, error.param, error.details)) {
          const named = `param ${JSON.stringify(error.param)}, details ${JSON.stringify(error.details).slice(0, 200)}`;
          add('names-field', `validation 400 does not name ${JSON.stringify(field)} (${named})`);
        }
      }
      if (status === 405) {
        const allow = (headers.get('allow') ?? '').split(',').map((m) => m.trim().toUpperCase()).filter(Boolean);
        if (allow.length === 0) add('envelope', '405 without Allow');
        if (allow.includes(plan.method)) add('envelope', `405 for ${plan.method} with Allow: ${allow.join(', ')}, which lists it`);
      }
    }
  }

  if (status >= 200 && status < 300 && documented) {
    const types = op.mediaTypes.get(status) ?? [];
    const ct = headers.get('content-type') ?? '';
    if (types.length > 0 && !types.some((t) => ct.toLowerCase().startsWith(t.toLowerCase()))) {
      add('documented', `content-type ${ct}, documented ${types.join(' | ')}`);
    }
  }

  if (plan.intent === 'invalid' && onRoute) {
    const expected = expectedStatuses(plan);
    if (status < 400) add('refusal', `accepted (${status}) a request the document refuses: ${plan.defect?.kind} ${plan.defect?.note}`);
    else if (expected && !expected.includes(status)) {
      add('refusal', `${status} for a ${plan.defect?.kind} defect (${plan.defect?.note}); expected ${expected.join(' or ')}`);
    }
  }
  if (plan.kind === 'undocumented-method' && status !== 405) add('refusal', `${status} for a method the path does not have; expected 405`);
  if (plan.kind === 'unknown-path' || (plan.kind === 'operation' && !onRoute)) {
    if (status < 400) add('refusal', `${status} for a path the document does not have`);
    else if (status !== 404 && status !== 405) add('refusal', `${status} for a path the document does not have; expected 404 or 405`);
  }
  return problems;
}
