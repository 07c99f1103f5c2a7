import { createWireResponder, type WireResponderOptions } from './wire-responder.js';

/** Never resolved: the demo provider answers in-process, through the SDK's fetch. */
export const DEMO_BASE_URL = 'http://demo.provider.invalid/v1';

export function createDemoFetch(options: WireResponderOptions = {}): typeof fetch {
  const delayMs = Number(process.env.DEMO_DELAY_MS ?? 30);
  const respond = createWireResponder({ behaviour: () => ({ delayMs }), ...options });
  return (async (input: RequestInfo | URL, init?: RequestInit) => respond(new Request(input, init))) as typeof fetch;
}
