import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { openRuntimeGate } from './runtime-gate.js';

describe('openRuntimeGate', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = () => {
    dir = mkdtempSync(join(tmpdir(), 'gate-'));
    return join(dir, 'sandfleet');
  };

  it('waits for the message, then writes its files (private ones 0400) and returns it', async () => {
    const target = fresh();
    const stdin = new PassThrough();
    const opened = openRuntimeGate(stdin, target);
    const message = {
      argv: ['echo', 'hi'],
      env: { SANDFLEET_STEP_ID: 's1' },
      files: [
        { name: 'event-token', content: 'tok', private: true },
        { name: 'input', content: 'the input', private: false },
      ],
    };
    // Split across writes, as a pipe delivers it; what follows the newline is not read.
    const line = `${JSON.stringify(message)}\nignored`;
    stdin.write(line.slice(0, 10));
    stdin.write(line.slice(10));
    expect(await opened).toEqual(message);
    expect(readFileSync(join(target, 'event-token'), 'utf8')).toBe('tok');
    expect(statSync(join(target, 'event-token')).mode & 0o777).toBe(0o400);
    expect(statSync(join(target, 'input')).mode & 0o777).toBe(0o444);
  });

  it.each([
    ['not JSON', 'nope\n', /not valid/],
    ['not a gate message', '{"argv":"echo"}\n', /not valid/],
    [
      'a file name with a path',
      '{"argv":[],"env":{},"files":[{"name":"../x","content":"","private":false}]}\n',
      /not valid/,
    ],
    ['nothing', '', /ended before/],
  ])('refuses %s with INVALID_ENV and writes nothing', async (_what, text, message) => {
    const target = fresh();
    await expect(
      openRuntimeGate(Readable.from(text === '' ? [] : [Buffer.from(text)]), target),
    ).rejects.toMatchObject({
      code: 'INVALID_ENV',
      message: expect.stringMatching(message),
    });
    expect(() => statSync(target)).toThrow();
  });

  it('never writes over a file that is already there', async () => {
    const target = fresh();
    const { mkdirSync } = await import('node:fs');
    mkdirSync(target);
    writeFileSync(join(target, 'event-token'), 'planted');
    const text = `${JSON.stringify({ argv: [], env: {}, files: [{ name: 'event-token', content: 'tok', private: true }] })}\n`;
    await expect(openRuntimeGate(Readable.from([Buffer.from(text)]), target)).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(readFileSync(join(target, 'event-token'), 'utf8')).toBe('planted');
  });
});
