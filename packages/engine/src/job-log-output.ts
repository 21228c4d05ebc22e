import type { StepDelivery } from '@sandfleet/queue';

/** Most output appended to a job's log (the end of it), bytes. */
export const JOB_LOG_OUTPUT_BYTES = 64 * 1024;
/** Log lines sent to Redis at once; each is one small MULTI, and order is kept within and across batches. */
const LINES_PER_BATCH = 256;

/**
 * The last `maxBytes` of `output` (cut on a character boundary), as lines without their newline.
 * A first line cut in the middle starts with `…`.
 */
export function outputTailLines(output: string, maxBytes = JOB_LOG_OUTPUT_BYTES): string[] {
  if (output === '') return [];
  const bytes = Buffer.from(output, 'utf8');
  let tail = output;
  let cut = false;
  if (bytes.length > maxBytes) {
    let start = bytes.length - maxBytes;
    // Skip UTF-8 continuation bytes so the tail starts on a whole character.
    while (start < bytes.length && ((bytes[start] as number) & 0xc0) === 0x80) start += 1;
    tail = bytes.subarray(start).toString('utf8');
    cut = true;
  }
  const lines = tail.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (cut && lines.length > 0) lines[0] = `…${lines[0]}`;
  return lines;
}

/**
 * Appends the end of a step's captured output (already capped and redacted by the publisher) to
 * its job's log, one entry per line, so Bull Board shows it under the job's Logs tab.
 */
export async function logOutputToJob(delivery: Pick<StepDelivery, 'log'>, output: string): Promise<void> {
  const lines = outputTailLines(output);
  const bytes = Buffer.byteLength(output, 'utf8');
  const header =
    bytes > JOB_LOG_OUTPUT_BYTES
      ? `--- output: last ${JOB_LOG_OUTPUT_BYTES} of ${bytes} bytes ---`
      : `--- output: ${bytes} bytes ---`;
  await delivery.log(header);
  for (let i = 0; i < lines.length; i += LINES_PER_BATCH) {
    // Calls go out in order on one connection, so a batch in flight keeps the lines in order.
    await Promise.all(lines.slice(i, i + LINES_PER_BATCH).map((line) => delivery.log(line)));
  }
}
