import { describe, expect, it } from 'vitest';
import { createLogger, type LogDestination } from './create-logger.js';
import { SecretRegistry } from './secret-registry.js';

function capture(): LogDestination & {
  lines: string[];
  text(): string;
  records(): Record<string, unknown>[];
} {
  const lines: string[] = [];
  return {
    lines,
    write(line: string) {
      lines.push(line);
    },
    text: () => lines.join(''),
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

const SECRET = 'sk-live-9f8e7d6c5b4a';

describe('createLogger', () => {
  it('writes JSON lines with name, level label, ISO time and the message', () => {
    const out = capture();
    createLogger({ name: 'worker', destination: out }).info({ stepId: 's1', attempt: 1 }, 'step started');
    expect(out.records()[0]).toMatchObject({
      name: 'worker',
      level: 'info',
      stepId: 's1',
      attempt: 1,
      msg: 'step started',
    });
    expect(out.records()[0]?.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('logs nothing below its level', () => {
    const out = capture();
    const log = createLogger({ name: 't', level: 'warn', destination: out });
    log.info('hidden');
    log.warn('shown');
    expect(out.records().map((r) => r.msg)).toEqual(['shown']);
  });

  it('censors sensitive fields whatever their value', () => {
    const out = capture();
    const log = createLogger({ name: 't', destination: out });
    log.info(
      {
        token: 'tok-top',
        job: { token: 'tok-nested', data: { password: 'pw-deep' } },
        req: { headers: { authorization: 'Bearer abc123', cookie: 'sid=1', accept: 'text/plain' } },
        spec: { agentId: 'a', env: { HOME: '/x' }, secrets: ['GITHUB_TOKEN'] },
        secrets: { GITHUB_TOKEN: 'ghp_value' },
        config: { apiToken: 'tok-cli' },
      },
      'request',
    );
    const text = out.text();
    for (const value of [
      'tok-top',
      'tok-nested',
      'pw-deep',
      'abc123',
      'sid=1',
      '/x',
      'ghp_value',
      'tok-cli',
    ]) {
      expect(text).not.toContain(value);
    }
    expect(out.records()[0]).toMatchObject({
      token: '***',
      job: { token: '***', data: { password: '***' } },
      req: { headers: { authorization: '***', cookie: '***', accept: 'text/plain' } },
      spec: { agentId: 'a', env: '***', secrets: ['***'] },
      secrets: { GITHUB_TOKEN: '***' },
    });
  });

  it('replaces secret values anywhere in a line, in children and error stacks too', () => {
    const out = capture();
    const log = createLogger({ name: 't', secrets: [SECRET], destination: out });
    const child = log.child({ stepId: 's1' }).child({ note: `key=${SECRET}` });
    log.info({ deep: { list: [`x${SECRET}y`] } }, `using ${SECRET}`);
    child.error({ err: new Error(`auth failed for ${SECRET}`) }, 'failed');
    log.info('%s and %o', SECRET, { k: SECRET });
    expect(out.lines).toHaveLength(3);
    expect(out.text()).not.toContain(SECRET);
    expect(out.text()).toContain('***');
    expect(out.records()[0]).toMatchObject({ msg: 'using ***', deep: { list: ['x***y'] } });
    expect(out.records()[1]).toMatchObject({ note: 'key=***', err: { message: 'auth failed for ***' } });
  });

  it('recognises secret values that JSON escapes', () => {
    const out = capture();
    const secret = 'p"a\\ss\nword';
    createLogger({ name: 't', secrets: [secret], destination: out }).info(
      { value: secret, embedded: JSON.stringify({ secret }) },
      'x',
    );
    const record = out.records()[0];
    expect(record).toMatchObject({ value: '***' });
    expect(String(record?.embedded)).not.toContain('a\\ss');
  });

  it('masks passwords in URLs', () => {
    const out = capture();
    createLogger({ name: 't', destination: out }).info(
      { db: 'postgres://app:hunter2@db:5432/x', redis: 'redis://:pw9@r:6379' },
      'config',
    );
    expect(out.records()[0]).toMatchObject({
      db: 'postgres://app:***@db:5432/x',
      redis: 'redis://:***@r:6379',
    });
  });

  it('consults a shared registry on every line, as it changes', () => {
    const out = capture();
    const registry = new SecretRegistry();
    const log = createLogger({ name: 't', registry, destination: out });
    log.info('value 5678-abcd');
    registry.add(['5678-abcd']);
    log.info('value 5678-abcd');
    expect(out.records().map((r) => r.msg)).toEqual(['value 5678-abcd', 'value ***']);
  });

  it('censors extra redact paths', () => {
    const out = capture();
    createLogger({ name: 't', redactPaths: ['job.data.input'], destination: out }).info(
      { job: { data: { input: 'prompt' } } },
      'x',
    );
    expect(out.records()[0]).toMatchObject({ job: { data: { input: '***' } } });
  });
});
