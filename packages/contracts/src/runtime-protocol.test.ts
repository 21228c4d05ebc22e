import { describe, expect, it } from 'vitest';
import {
  encodeRuntimeEvent,
  MAX_RUNTIME_EVENT_BYTES,
  MAX_RUNTIME_SEQUENCE_BYTES,
  RUNTIME_FAILURE_EXIT_CODE,
  RuntimeErrorCode,
  RuntimeEventData,
  RuntimeResult,
  RuntimeWorkspace,
} from './runtime-protocol.js';

// biome-ignore lint/suspicious/noControlCharactersInRegex: the sequence is made of ESC and BEL.
const SEQUENCE = /^\x1b\]sandfleet;([^;]*);([A-Za-z0-9+/=]*)\x07$/;

function decode(sequence: string): { token: string; message: unknown } {
  const match = SEQUENCE.exec(sequence);
  if (match === null) throw new Error(`not an event sequence: ${JSON.stringify(sequence)}`);
  return {
    token: match[1] ?? '',
    message: JSON.parse(Buffer.from(match[2] ?? '', 'base64').toString('utf8')),
  };
}

describe('encodeRuntimeEvent', () => {
  it('is ESC ] sandfleet ; token ; base64 JSON of name and data, then BEL', () => {
    const data = { exitCode: 0, result: { ok: true } };
    expect(encodeRuntimeEvent('tok', { name: 'result', data })).toBe(
      `\x1b]sandfleet;tok;${Buffer.from(JSON.stringify({ name: 'result', data })).toString('base64')}\x07`,
    );
  });

  it('keeps control characters and non-ASCII text of the data out of the sequence', () => {
    const reply = 'héllo \x07\x1b]0;title\x07 ; 🚀\n';
    const sequence = encodeRuntimeEvent('tok', { name: 'result', data: { exitCode: 0, reply } });
    expect(decode(sequence)).toEqual({
      token: 'tok',
      message: { name: 'result', data: { exitCode: 0, reply } },
    });
    expect(sequence.slice(1, -1)).not.toContain('\x07');
    expect(sequence.slice(1, -1)).not.toContain('\x1b');
  });

  it('leaves the worker room: what the runtime writes is well under what the worker reads as an event', () => {
    expect(MAX_RUNTIME_EVENT_BYTES).toBeLessThan(MAX_RUNTIME_SEQUENCE_BYTES);
  });
});

describe('RuntimeResult', () => {
  it("keeps the runtime's own error, so that its code reaches the step row", () => {
    const data = {
      exitCode: RUNTIME_FAILURE_EXIT_CODE,
      error: { code: 'WORKSPACE_FAILED', message: 'preparing the workspace failed' },
    };
    expect(RuntimeResult.parse(data)).toEqual(data);
    expect(RuntimeErrorCode.options).toContain(data.error.code);
  });

  it('takes an error code it does not know (a newer runtime), but not an error without one', () => {
    expect(RuntimeResult.parse({ exitCode: 70, error: { code: 'NEW_CODE', message: 'm' } }).error?.code).toBe(
      'NEW_CODE',
    );
    expect(RuntimeResult.safeParse({ exitCode: 70, error: { message: 'm' } }).success).toBe(false);
  });
});

describe('the runtime events', () => {
  it('have a schema for each name, and each data the runtime writes parses', () => {
    const samples = {
      'workspace.ready': {
        kind: 'pipeline',
        path: '/home/agent/run-workspace',
        repo: 'r',
        branch: null,
        sha: '',
      },
      'git.commit': { sha: 'abc', branch: 'run/R1', message: 'sandfleet: step s1' },
      'git.push': { branch: 'run/R1', sha: 'abc' },
      result: { exitCode: 0, commit: 'abc' },
    };
    expect(Object.keys(RuntimeEventData).sort()).toEqual(Object.keys(samples).sort());
    for (const [name, data] of Object.entries(samples)) {
      expect(RuntimeEventData[name as keyof typeof samples].parse(data)).toEqual(data);
    }
    expect(
      RuntimeEventData['workspace.ready'].safeParse({ ...samples['workspace.ready'], kind: 'batch' }).success,
    ).toBe(false);
  });
});

describe('RuntimeWorkspace', () => {
  it("is the StepSpec's workspace, ignoring keys it does not know", () => {
    expect(RuntimeWorkspace.parse({ repo: 'https://git.example/a.git', depth: 1 })).toEqual({
      repo: 'https://git.example/a.git',
      push: false,
    });
    const bad = RuntimeWorkspace.safeParse({ repo: '/srv/repo', ref: '--upload-pack=x' });
    expect(bad.error?.issues.map((issue) => issue.path.join('.')).sort()).toEqual(['ref', 'repo']);
  });
});
