import { env } from 'cloudflare:workers';

/** One provider request as the simulator recorded it. */
export interface SimulatorRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The body as text: JSON as sent, multipart with its binary parts garbled but its text fields intact. */
  body: string;
}

/**
 * A prompt no other test sends. The simulator is one process shared by every test file, so its
 * recordings and its per-prompt fault counters (`[sim:http=503x2]`) only stay a test's own when
 * the prompt is unique; `simulatorRequests` uses it as the marker.
 */
export const uniquePrompt = (text: string): string => `${text} ${crypto.randomUUID()}`;

/**
 * The requests the simulator received on a path containing `path` (its filter matches substrings)
 * whose body contains `marker`, oldest first.
 */
export async function simulatorRequests(path: string, marker: string): Promise<SimulatorRequest[]> {
  const res = await fetch(`${env.SIMULATOR_URL}/__sim/requests?path=${encodeURIComponent(path)}`);
  const recorded = await res.json<SimulatorRequest[]>();
  return recorded.filter((request) => request.body.includes(marker));
}

/** The first JSON request `simulatorRequests` finds, with its body parsed; throws when there is none. */
export async function firstJsonRequest(
  path: string,
  marker: string,
): Promise<Omit<SimulatorRequest, 'body'> & { body: Record<string, unknown> }> {
  const [request] = await simulatorRequests(path, marker);
  if (!request) throw new Error(`the simulator received no request to ${path} with ${marker}`);
  return { ...request, body: JSON.parse(request.body) as Record<string, unknown> };
}

/**
 * A 512×512 PNG hosted on the simulator, standing in for a customer's reference image. The
 * simulator has no upload route, so it is made through its BFL API, whose result is a hosted URL.
 */
export async function hostedPng(): Promise<string> {
  const headers = { 'x-key': 'fixture', 'content-type': 'application/json' };
  const body = JSON.stringify({ prompt: 'reference', width: 512, height: 512 });
  const made = await fetch(`${env.SIMULATOR_URL}/v1/flux-2-pro`, { method: 'POST', headers, body });
  const { polling_url } = await made.json<{ polling_url: string }>();
  const ready = await (await fetch(polling_url, { headers })).json<{ result: { sample: string } }>();
  return ready.result.sample;
}
