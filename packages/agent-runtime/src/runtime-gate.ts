import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { MAX_RUNTIME_GATE_BYTES, RuntimeGateMessage } from '@sandfleet/contracts';
import { RuntimeError } from './errors.js';

/**
 * The gate of a warm container: waits for the worker's {@link RuntimeGateMessage} on `stdin` (one
 * JSON line, or everything up to EOF), writes its files to `dir` (private ones root-only, 0400;
 * the others 0444), and returns it. Throws `INVALID_ENV` for a message that is too large, not
 * JSON or not a gate message, and when stdin ends with nothing.
 */
export async function openRuntimeGate(stdin: Readable, dir: string): Promise<RuntimeGateMessage> {
  const text = await readLine(stdin);
  let message: RuntimeGateMessage;
  try {
    message = RuntimeGateMessage.parse(JSON.parse(text));
  } catch (error) {
    throw new RuntimeError('INVALID_ENV', `the gate message is not valid: ${(error as Error).message}`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const file of message.files) {
    // `wx`: never over a file that is already there (a name given twice, a planted one).
    writeFileSync(join(dir, file.name), file.content, { mode: file.private ? 0o400 : 0o444, flag: 'wx' });
  }
  return message;
}

/** Reads up to the first newline or EOF, bounded; stops reading stdin afterwards. */
async function readLine(stdin: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stdin) {
      const buffer = chunk as Buffer;
      const newline = buffer.indexOf(0x0a);
      chunks.push(newline === -1 ? buffer : buffer.subarray(0, newline));
      size += buffer.length;
      if (size > MAX_RUNTIME_GATE_BYTES) {
        throw new RuntimeError('INVALID_ENV', `the gate message exceeds ${MAX_RUNTIME_GATE_BYTES} bytes`);
      }
      if (newline !== -1) break;
    }
  } finally {
    stdin.pause();
  }
  if (size === 0) throw new RuntimeError('INVALID_ENV', 'stdin ended before the gate message');
  return Buffer.concat(chunks).toString('utf8');
}
