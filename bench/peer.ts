import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { LoadTarget } from './load';
import { freePort } from '../scripts/free-port';
import { startChild, waitForHttp } from './processes';

export interface Peer {
  /** Image generation through the Portkey gateway to the simulator's OpenAI route. */
  target: LoadTarget;
  /** The same request sent straight to the simulator: the upstream's own cost. */
  upstreamTarget: LoadTarget;
  pid: number | null;
  stop(): Promise<void>;
}

/**
 * The peer: the open-source Portkey AI gateway (npm `@portkey-ai/gateway`, Node build), proxying
 * `POST /v1/images/generations` to the simulator's OpenAI images route. Skipped, with the reason,
 * when the simulator does not (yet) answer that route or the gateway does not start.
 */
export async function startPeer(simUrl: string, prompt: string): Promise<Peer | { skipped: string }> {
  const body = JSON.stringify({ model: 'gpt-image-1', prompt, n: 1, size: '1024x1024' });
  const upstreamHeaders = { authorization: 'Bearer bench-openai-key', 'content-type': 'application/json' };
  const probe = await fetch(`${simUrl}/v1/images/generations`, { method: 'POST', headers: upstreamHeaders, body });
  const probeText = await probe.text();
  if (probe.status !== 200) {
    return {
      skipped: `the simulator answered POST /v1/images/generations with ${probe.status} (${probeText.slice(0, 120)}); the OpenAI images simulator is not registered yet`,
    };
  }

  let script: string;
  try {
    const require = createRequire(import.meta.url);
    script = join(dirname(require.resolve('@portkey-ai/gateway/package.json')), 'build', 'start-server.js');
  } catch (err) {
    return { skipped: `@portkey-ai/gateway is not installed (${String(err)})` };
  }
  const port = await freePort();
  // The flag needs the `=`; without it the gateway listens on 8787 (the dev server's port).
  const child = startChild(process.execPath, [script, `--port=${port}`, '--headless']);
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForHttp(`${url}/`, 30_000);
  } catch (err) {
    await child.stop();
    return { skipped: `the Portkey gateway did not start: ${String(err)}\n${child.output()}` };
  }
  return {
    target: {
      url: `${url}/v1/images/generations`,
      method: 'POST',
      headers: {
        ...upstreamHeaders,
        'x-portkey-provider': 'openai',
        'x-portkey-custom-host': `${simUrl}/v1`,
      },
      body,
      expectStatus: 200,
    },
    upstreamTarget: { url: `${simUrl}/v1/images/generations`, method: 'POST', headers: upstreamHeaders, body, expectStatus: 200 },
    pid: child.process.pid ?? null,
    stop: () => child.stop(),
  };
}
