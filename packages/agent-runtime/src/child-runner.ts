import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { OutputEscaper } from './output-escaper.js';

/** How long the pipes may stay open after the command exited (held by a process that escaped). */
const CLOSE_GRACE_MS = 2000;

export interface ChildOptions {
  argv: readonly [string, ...string[]];
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  /** The runtime's stdout and stderr, to which the command's are forwarded chunk by chunk. */
  stdout: Writable;
  stderr: Writable;
  /** Keep up to this many bytes of the command's stdout (for a chat reply). @defaultValue `0` */
  captureBytes?: number;
  /**
   * Give the command the runtime's terminal itself (`docker run -it … bash`): no forwarding, no
   * capture, same process group, so the shell gets the terminal's signals and job control.
   */
  interactive?: boolean;
  /** Escape the event prefix in the command's stdout (see `OutputEscaper`). @defaultValue `false` */
  escapeEvents?: boolean;
  /** Run the command as this user, without supplementary groups (the runtime is root). */
  user?: { uid: number; gid: number };
}

export interface ChildOutcome {
  /** The command's exit code; 128 + n when killed by signal n; 127/126 when it could not start. */
  exitCode: number;
  /** The first `captureBytes` of its stdout, as UTF-8 (an incomplete last character dropped). */
  stdout: string;
}

/** The step's command, running. */
export interface RunningChild {
  /** Sends `signal` to the command (its whole process group unless interactive). */
  kill(signal: NodeJS.Signals): void;
  readonly done: Promise<ChildOutcome>;
}

/**
 * Starts the command with stdin inherited and stdout/stderr piped through the runtime, each chunk
 * written whole, so the runtime's own writes (events) fall between chunks. Backpressure from the
 * runtime's stdout pauses the command's pipe. The command leads its own process group; when it
 * exits, what is left of the group is killed, as the end of the container would.
 */
export function runChild(options: ChildOptions): RunningChild {
  const interactive = options.interactive === true;
  const [file, ...args] = options.argv;
  const child = spawn(file, args, {
    cwd: options.cwd,
    env: options.env,
    stdio: interactive ? 'inherit' : ['inherit', 'pipe', 'pipe'],
    detached: !interactive,
    // libuv also clears the supplementary groups when it switches the uid.
    ...(options.user === undefined ? {} : { uid: options.user.uid, gid: options.user.gid }),
  });
  const capture = new Capture(options.captureBytes ?? 0);
  const escaper = options.escapeEvents === true ? new OutputEscaper() : undefined;
  if (child.stdout !== null) forward(child.stdout, options.stdout, capture, escaper);
  if (child.stderr !== null) forward(child.stderr, options.stderr);
  const kill = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      if (interactive) child.kill(signal);
      else process.kill(-child.pid, signal);
    } catch {
      // Already gone.
    }
  };
  const done = new Promise<ChildOutcome>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (child.pid !== undefined) return; // errors after start are reported by 'exit'
      options.stderr.write(`sandfleet-agent-runtime: cannot run ${file}: ${error.message}\n`);
      resolve({ exitCode: error.code === 'ENOENT' ? 127 : 126, stdout: '' });
    });
    child.once('exit', (code, signal) => {
      const exitCode = code ?? 128 + (signal === null ? 0 : constants.signals[signal]);
      if (!interactive) killGroup(child);
      waitForClose(child).then(() => {
        const held = escaper?.end();
        if (held !== undefined && held.length > 0) options.stdout.write(held);
        resolve({ exitCode, stdout: capture.text() });
      });
    });
  });
  return { kill, done };
}

function forward(from: Readable, to: Writable, capture?: Capture, escaper?: OutputEscaper): void {
  from.on('data', (chunk: Buffer) => {
    capture?.push(chunk);
    const out = escaper === undefined ? chunk : escaper.push(chunk);
    if (out.length > 0 && !to.write(out)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  });
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is empty.
  }
}

function waitForClose(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.stdout === null || (child.stdout.closed && child.stderr?.closed)) return resolve();
    const timer = setTimeout(() => {
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve();
    }, CLOSE_GRACE_MS);
    child.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The first bytes of a stream, up to a cap. */
class Capture {
  readonly #limit: number;
  readonly #chunks: Buffer[] = [];
  #size = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  push(chunk: Buffer): void {
    if (this.#size >= this.#limit) return;
    const part = chunk.subarray(0, this.#limit - this.#size);
    this.#chunks.push(part);
    this.#size += part.length;
  }

  text(): string {
    return new TextDecoder('utf-8').decode(Buffer.concat(this.#chunks), { stream: true });
  }
}
