import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { waitForHttp } from '../../bench/processes';
import { freePort } from '../../scripts/free-port';

/**
 * `npm run test:browser`: the API reference page in a real browser. It starts the API as `npm run dev`
 * does (scripts/dev.ts: the provider simulator and `wrangler dev`, here on free ports), opens `/docs` in
 * Debian's Chromium (headless, driven by playwright-core), and checks that the page renders the
 * document with the generation route listed, with no console error and no CSP violation; that "Try
 * it out", after "Authorize" with a customer key, shows the Worker's real answers (the account's
 * credits, a result image); and that the CSP is enforced (an inline script and a call to another
 * origin are refused). Bounded in time; it stops what it started however it ends. `CHROMIUM_PATH`
 * overrides `/usr/bin/chromium`.
 */
const DEADLINE_MS = 240_000;
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CREDITS = 4321;

interface DevServer {
  /** The last 8 KB of its output, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/**
 * `npm run dev` (scripts/dev.ts) on the given ports, in a process group of its own, stopped as a group:
 * dev.ts stops `npx wrangler dev` with SIGTERM, which npx does not pass on, and a wrangler left behind
 * keeps serving, and keeps this script's pipes (and so this script) open.
 */
function startDev(port: number, simPort: number): DevServer {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PORT: String(port), SIM_PORT: String(simPort), WRANGLER_SEND_METRICS: 'false' },
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-8192);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    output: () => output,
    async stop() {
      const group = -child.pid!;
      try {
        process.kill(group, 'SIGTERM');
        await Promise.race([exited, sleep(5_000)]);
        // Whatever of it is left (wrangler, workerd) goes with the group.
        process.kill(group, 'SIGKILL');
      } catch {
        // ESRCH: the whole group has ended.
      }
      child.stdout.destroy();
      child.stderr.destroy();
    },
  };
}

/** The INTERNAL_API_TOKEN `wrangler dev` reads from .dev.vars (scripts/dev.ts creates it from the example). */
function internalToken(): string {
  const line = readFileSync('.dev.vars', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('INTERNAL_API_TOKEN='));
  if (!line) throw new Error('.dev.vars has no INTERNAL_API_TOKEN');
  return line.slice('INTERNAL_API_TOKEN='.length).trim();
}

async function call(url: string, init: RequestInit & { expect: number }): Promise<unknown> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (res.status !== init.expect) throw new Error(`${init.method ?? 'GET'} ${url} answered ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** A customer with a key and `CREDITS` credits, made through the internal API as the BFF would. */
async function customerKey(base: string): Promise<string> {
  const auth = { authorization: `Bearer ${internalToken()}` };
  const account = `acct_docs_${Date.now().toString(36)}`;
  const minted = (await call(`${base}/internal/v1/accounts/${account}/keys`, { method: 'POST', headers: auth, expect: 201 })) as {
    api_key: string;
  };
  await call(`${base}/internal/v1/accounts/${account}/credits`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ amount: CREDITS, reference: `docs-browser-${account}` }),
    expect: 200,
  });
  return minted.api_key;
}

/** A finished image of the customer's (a flux-2 task on the simulator): its file id and size. */
async function resultImage(base: string, apiKey: string): Promise<{ fileId: string; width: number; height: number }> {
  const task = (await call(`${base}/api/v1/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json', prefer: 'wait=60' },
    body: JSON.stringify({ model: 'flux-2', prompt: 'A lighthouse on the API reference page' }),
    expect: 200,
  })) as { output: { images: { url: string; width: number; height: number }[] } | null };
  const image = task.output?.images[0];
  if (!image) throw new Error(`the task gave no image: ${JSON.stringify(task)}`);
  return { fileId: new URL(image.url).pathname.split('/').pop()!, width: image.width, height: image.height };
}

/** What went wrong in the page: console errors, uncaught exceptions, CSP violations, failed or refused loads. */
function watchPage(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`failed: ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()} from ${response.url()}`);
  });
  return problems;
}

/**
 * Opens an operation, presses "Try it out", fills `params` and "Execute"; returns the answer's row
 * once it shows 200, and fails with what it shows otherwise.
 */
async function tryItOut(page: Page, method: string, path: string, params: Record<string, string> = {}): Promise<Locator> {
  const operation = page.locator(`.opblock-${method}`, { has: page.locator(`[data-path="${path}"]`) });
  await operation.locator('.opblock-summary').click();
  await operation.locator('button.try-out__btn').click();
  for (const [name, value] of Object.entries(params)) await operation.locator(`tr[data-param-name="${name}"] input`).fill(value);
  await operation.locator('button.execute').click();
  const answer = operation.locator('.live-responses-table tr.response');
  await answer.waitFor();
  const status = (await answer.locator('.response-col_status').innerText()).trim();
  if (status !== '200') {
    throw new Error(`"Try it out" on ${method.toUpperCase()} ${path} showed ${status}: ${await answer.innerText()}`);
  }
  return answer;
}

/**
 * Opens /docs and checks it; `otherOrigin` is a server that answers (the simulator), which the page
 * must not be allowed to call.
 */
async function checkDocsPage(browser: Browser, base: string, apiKey: string, otherOrigin: string): Promise<void> {
  const openapi = (await call(`${base}/openapi.json`, { expect: 200 })) as {
    paths: Record<string, Record<string, { summary?: string }>>;
  };
  const summary = openapi.paths['/api/v1/images/generations']?.post?.summary;
  if (!summary) throw new Error('/openapi.json has no summary for POST /api/v1/images/generations');

  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  const problems = watchPage(page);
  // Chromium reports each violation to the page as an event (and logs it as a console error too).
  await page.exposeFunction('reportCspViolation', (text: string) => problems.push(`CSP violation: ${text}`));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { reportCspViolation(text: string): void }).reportCspViolation(
        `${e.violatedDirective} blocked ${e.blockedURI || 'inline'} (${e.sourceFile}:${e.lineNumber})`,
      );
    });
  });

  const res = await page.goto(`${base}/docs`);
  if (res?.status() !== 200) throw new Error(`GET /docs answered ${res?.status()}`);
  if (!res.headers()['content-security-policy']) throw new Error('GET /docs has no Content-Security-Policy');

  // Rendered: the generation route listed with its summary.
  const generation = page.locator('.opblock-post', { has: page.locator('[data-path="/api/v1/images/generations"]') });
  await generation.locator('.opblock-summary-description', { hasText: summary }).waitFor({ state: 'visible' });
  console.log(`rendered: POST /api/v1/images/generations "${summary}"`);

  // Authorize with the customer's key (the bearerAuth scheme), as an integrator would.
  await page.locator('.auth-wrapper .authorize').click();
  const scheme = page.locator('.auth-container', { has: page.locator('h4', { hasText: 'bearerAuth' }) });
  await scheme.locator('input').fill(apiKey);
  await scheme.locator('button.authorize').click();
  await scheme.locator('button', { hasText: 'Logout' }).waitFor();
  await page.locator('.dialog-ux .close-modal').click();

  // "Try it out" on an authenticated route: the answer shown must be the Worker's, for this account.
  const credits = await tryItOut(page, 'get', '/api/v1/billing/credits');
  const body = await credits.locator('.response-col_description pre').first().innerText();
  const shown = JSON.parse(body) as { balance?: unknown };
  if (shown.balance !== CREDITS) throw new Error(`"Try it out" showed a balance of ${String(shown.balance)}, not ${CREDITS}: ${body}`);
  console.log(`try it out: GET /api/v1/billing/credits → 200, balance ${shown.balance}`);

  // And on the one route that answers an image, which the page shows through an object URL (`img-src blob:`).
  const image = await resultImage(base, apiKey);
  const file = await tryItOut(page, 'get', '/api/v1/files/{file_id}', { file_id: image.fileId });
  const size = await file.locator('img[src^="blob:"]').evaluate(async (img: HTMLImageElement) => {
    await img.decode();
    return { width: img.naturalWidth, height: img.naturalHeight };
  });
  if (size.width !== image.width || size.height !== image.height) {
    throw new Error(`"Try it out" showed a ${size.width}×${size.height} image, not the task's ${image.width}×${image.height}`);
  }
  console.log(`try it out: GET /api/v1/files/${image.fileId} → 200, a ${size.width}×${size.height} image`);

  if (problems.length > 0) throw new Error(`the page reported problems:\n  ${problems.join('\n  ')}`);

  // The policy is enforced and the watcher sees it: an inline script and a call to another origin are refused.
  const outcome = await page.evaluate(async (elsewhere) => {
    const script = document.createElement('script');
    script.textContent = 'window.inlineScriptRan = true';
    document.head.append(script);
    const fetched = await fetch(elsewhere).then(
      () => 'reached',
      () => 'refused',
    );
    return { inline: (window as unknown as { inlineScriptRan?: boolean }).inlineScriptRan === true, fetched };
  }, otherOrigin);
  await page.waitForTimeout(500);
  const seen = (directive: string) => problems.some((p) => p.startsWith(`CSP violation: ${directive}`));
  if (outcome.inline || !seen('script-src')) throw new Error(`an inline script was not refused: ${JSON.stringify({ outcome, problems })}`);
  if (outcome.fetched !== 'refused' || !seen('connect-src')) {
    throw new Error(`a call to ${otherOrigin} was not refused: ${JSON.stringify({ outcome, problems })}`);
  }
  console.log(`CSP: an inline script and a call to ${otherOrigin} were refused and reported`);
  await page.close();
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`no browser at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  const [port, simPort] = [await freePort(), await freePort()];
  const base = `http://127.0.0.1:${port}`;
  const dev = startDev(port, simPort);
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    await dev.stop();
  };
  const deadline = setTimeout(() => {
    console.error(`test:browser: FAILED: not done after ${DEADLINE_MS / 1000} s\nnpm run dev said:\n${dev.output()}`);
    void stop().finally(() => process.exit(1));
  }, DEADLINE_MS);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void stop().finally(() => process.exit(1)));
  }
  try {
    await waitForHttp(`${base}/openapi.json`, 150_000);
    const apiKey = await customerKey(base);
    // CI containers give /dev/shm 64 MB, which Chromium can outgrow; /tmp it is.
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--disable-dev-shm-usage'] });
    await checkDocsPage(browser, base, apiKey, `http://127.0.0.1:${simPort}/`);
  } catch (err) {
    console.error(`npm run dev said (the end):\n${dev.output()}`);
    throw err;
  } finally {
    clearTimeout(deadline);
    await stop();
  }
}

main().then(
  () => {
    console.log('test:browser: /docs passed in Chromium.');
    process.exit(0);
  },
  (err: unknown) => {
    console.error(`test:browser: FAILED\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
