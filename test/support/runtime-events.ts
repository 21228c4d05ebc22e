import { RUNTIME_EVENT_END, RUNTIME_EVENT_PREFIX, RuntimeMessage, RuntimeResult } from '@sandfleet/contracts';

/** A runtime event decoded from the runtime's stdout. */
export interface DecodedRuntimeEvent {
  name: string;
  data: Record<string, unknown>;
}

export interface DecodedOutput {
  /** Events carrying the expected token, in order. */
  events: DecodedRuntimeEvent[];
  /** stdout without those sequences (sequences with another token stay, as the worker leaves them). */
  plain: string;
}

// ESC ] sandfleet ; <token> ; <base64> BEL — the protocol, re-implemented here on purpose: the
// tests hold the runtime to the protocol, not to its own encoder.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the sequences are made of ESC and BEL.
const SEQUENCE = /\x1b\]sandfleet;([^;\x07]*);([A-Za-z0-9+/=]*)\x07/g;

/**
 * Splits the runtime's stdout into its events (with `token`) and the plain output. Each event must
 * also be what the worker accepts: a `RuntimeMessage`, and for `result` a `RuntimeResult`, of
 * `@sandfleet/contracts`.
 */
export function decodeRuntimeOutput(stdout: string, token: string): DecodedOutput {
  if (RUNTIME_EVENT_PREFIX !== '\x1b]sandfleet;' || RUNTIME_EVENT_END !== '\x07') {
    throw new Error('the contract changed its event sequence: update this decoder');
  }
  const events: DecodedRuntimeEvent[] = [];
  const plain = stdout.replace(SEQUENCE, (sequence, sequenceToken: string, payload: string) => {
    if (sequenceToken !== token) return sequence;
    const json: unknown = JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
    const message = RuntimeMessage.parse(json);
    if (message.name === 'result') RuntimeResult.parse(message.data);
    events.push(json as DecodedRuntimeEvent);
    return '';
  });
  return { events, plain };
}
