import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ApiError } from './errors.js';

export type { EventSourceMessage };

/** @defaultValue of {@link ReadSseOptions.maxBufferSize}: 32 MiB of one unfinished event. */
export const DEFAULT_SSE_MAX_BUFFER = 32 * 1024 * 1024;

/** Options of {@link readSseMessages}. */
export interface ReadSseOptions {
  /**
   * Most characters of one unfinished line or event kept while waiting for its end; a stream
   * going past it fails with `INVALID_EVENT`. @defaultValue {@link DEFAULT_SSE_MAX_BUFFER}
   */
  maxBufferSize?: number;
  /** Called for every chunk received, comments and heartbeats included (idle detection). */
  onChunk?: () => void;
}

/**
 * The messages of a Server-Sent Events body, as they complete. Chunks may split lines, UTF-8
 * characters or `\r\n` pairs anywhere; comments (`: heartbeat`) are skipped; an event cut off by
 * the end of the body (no blank line after it) is dropped, as the SSE spec says, so a reader
 * resuming with `Last-Event-ID` gets it whole again. Errors of the body (a dropped connection)
 * are thrown as they are.
 */
export async function* readSseMessages(
  body: ReadableStream<Uint8Array>,
  options: ReadSseOptions = {},
): AsyncGenerator<EventSourceMessage, void, undefined> {
  const ready: EventSourceMessage[] = [];
  let failure: ApiError | undefined;
  const parser = createParser({
    maxBufferSize: options.maxBufferSize ?? DEFAULT_SSE_MAX_BUFFER,
    onEvent: (message) => ready.push(message),
    onError: (error) => {
      // Unknown fields and bad `retry` values are ignored, as EventSource does.
      if (error.type === 'max-buffer-size-exceeded') {
        failure ??= new ApiError('INVALID_EVENT', `event stream: ${error.message}`, { cause: error });
      }
    },
  });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      options.onChunk?.();
      parser.feed(decoder.decode(value, { stream: true }));
      if (failure) throw failure;
      while (ready.length > 0) yield ready.shift() as EventSourceMessage;
    }
    const rest = decoder.decode();
    if (rest !== '') parser.feed(rest);
    while (ready.length > 0) yield ready.shift() as EventSourceMessage;
  } finally {
    // Stops the download when the reader leaves early (a `finished` event, break, error).
    reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
