import { createWireResponder, type WireResponderOptions } from './wire-responder.js';

/** Never resolved: the demo provider answers in-process, through the SDK's fetch. */
export const DEMO_BASE_URL = 'http://demo.provider.invalid/v1';

export function createDemoFetch({ delayMs = 30, ...options }: WireResponderOptions & { delayMs?: number } = {}): typeof fetch {
  const respond = createWireResponder({ behaviour: () => ({ delayMs }), ...options });
  return (async (input: RequestInfo | URL, init?: RequestInit) => respond(new Request(input, init))) as typeof fetch;
}
