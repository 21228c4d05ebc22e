import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./signal-child.mjs', import.meta.url));
const TS_SOURCES = fileURLToPath(new URL('./ts-sources.mjs', import.meta.url));
const WAIT_MS = 10_000;

interface LogLine {
  level: string;
  msg: string;
  [key: string]: unknown;
}

/** A real node process running runUntilSignal (test/signal-child.mjs), with its log lines. */
class Child {
  readonly process: ChildProcess;
  readonly lines: LogLine[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr = '';
  #waiters: Array<() => void> = [];

  constructor(args: string[]) {
    this.process = spawn(
      process.execPath,
      ['--experimental-strip-types', '--no-warnings', '--import', TS_SOURCES, CHILD, ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let pending = '';
    this.process.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) if (line) this.lines.push(JSON.parse(line) as LogLine);
      for (const wake of this.#waiters) wake();
    });
    this.process.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      this.process.on('exit', (code, signal) => resolve({ code, signal }));
    });
  }

  messages(): string[] {
    return this.lines.map((line) => line.msg);
  }

  /** Resolves with the first line logging `msg`; rejects after WAIT_MS or if the child exits first. */
  waitFor(msg: string): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.lines.find((candidate) => candidate.msg === msg);
        if (!line) return;
        clearTimeout(timer);
        resolve(line);
      };
      const timer = setTimeout(
        () => reject(new Error(`no "${msg}" line; got ${JSON.stringify(this.messages())}; ${this.stderr}`)),
        WAIT_MS,
      );
      this.#waiters.push(check);
      void this.exited.then(() => setImmediate(check));
      check();
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.process.kill(signal);
  }
}

const children: Child[] = [];
const run = (...args: string[]) => {
  const child = new Child(args);
  children.push(child);
  return child;
};

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGKILL');
  }
});

describe('runUntilSignal', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)('stops gracefully on %s and exits 0', async (signal) => {
    const child = run('ok', 'ok');
    await child.waitFor('started');
    child.kill(signal);
    expect(await child.exited).toEqual({ code: 0, signal: null });
    expect(child.messages().slice(-4)).toEqual(['stopping', 'closing', 'closed', 'stopped']);
    expect(child.lines.find((line) => line.msg === 'stopping')).toMatchObject({ signal, deadlineMs: 5000 });
  });

  it('exits 1 at once on a second SIGTERM while the first stop is still running', async () => {
    const child = run('ok', 'hang', '15000');
    await child.waitFor('started');
    child.kill('SIGTERM');
    await child.waitFor('closing');
    const secondAt = Date.now();
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 1, signal: null });
    // Well below the 15 s deadline: the second signal did not wait for it.
    expect(Date.now() - secondAt).toBeLessThan(5000);
    expect(await child.waitFor('second signal: exiting without a graceful stop')).toMatchObject({
      level: 'warn',
      signal: 'SIGTERM',
    });
    expect(child.messages()).not.toContain('stopped');
  });

  it('exits 1 with a log line when the stop hangs past its deadline', async () => {
    const child = run('ok', 'hang', '400');
    await child.waitFor('started');
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(400);
    expect(await child.waitFor('stop passed its deadline: exiting')).toMatchObject({
      level: 'error',
      deadlineMs: 400,
    });
  });

  it('exits 1 and logs the code when the stop fails', async () => {
    const child = run('ok', 'fail');
    await child.waitFor('started');
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 1, signal: null });
    expect(await child.waitFor('stop failed')).toMatchObject({ level: 'error', code: 'DB_UNAVAILABLE' });
  });

  it('a signal during start-up closes the work once it has started, then exits 0', async () => {
    const child = run('slow', 'ok');
    await child.waitFor('starting');
    child.kill('SIGTERM');
    expect(await child.exited).toEqual({ code: 0, signal: null });
    // The child's own 'started' line races the close, which runs as soon as start-up resolves.
    const messages = child.messages();
    expect(messages).toContain('started');
    expect(messages.filter((msg) => msg !== 'started')).toEqual([
      'starting',
      'stopping',
      'closing',
      'closed',
      'stopped',
    ]);
  });

  it('a config that does not parse is written to stderr and exits 2 before anything starts', async () => {
    const child = run('env');
    expect(await child.exited).toEqual({ code: 2, signal: null });
    expect(child.stderr).toBe(
      'sandfleet signal-child: invalid configuration:\n  SANDFLEET_Y: must be a number\n',
    );
    expect(child.lines).toEqual([]);
  });

  it.each([
    ['config', 2, 'INVALID_CONFIG'],
    ['fail', 1, 'EADDRINUSE'],
  ] as const)(
    'a start that fails (%s) is logged with its code and exits %i without a signal',
    async (mode, code, errorCode) => {
      const child = run(mode);
      expect(await child.exited).toEqual({ code, signal: null });
      expect(await child.waitFor('start failed')).toMatchObject({ level: 'fatal', code: errorCode });
      expect(child.messages()).not.toContain('started');
    },
  );
});
