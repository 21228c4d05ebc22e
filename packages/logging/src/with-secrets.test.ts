import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, type LogDestination, secretRegistryOf } from './create-logger.js';
import { withSecrets } from './with-secrets.js';

function capture(): LogDestination & { text(): string; lines: string[] } {
  const lines: string[] = [];
  return { lines, write: (line: string) => void lines.push(line), text: () => lines.join('') };
}

describe('withSecrets', () => {
  it('gives a bound child logger that redacts the step’s secret values', () => {
    const out = capture();
    const root = createLogger({ name: 'worker', destination: out });
    const scope = withSecrets(root, ['step-secret-1', 'step-secret-2'], { stepId: 's1', agentId: 'a' });
    scope.logger.info({ attempt: 1 }, 'got step-secret-1');
    root.info({ leaked: 'step-secret-2' }, 'root line');
    expect(out.text()).not.toMatch(/step-secret-\d/);
    expect(JSON.parse(out.lines[0] ?? '{}')).toMatchObject({ stepId: 's1', agentId: 'a', msg: 'got ***' });
    scope.release();
  });

  it('stops redacting on release, unless another scope still holds the value', () => {
    const out = capture();
    const root = createLogger({ name: 'worker', destination: out });
    const a = withSecrets(root, ['shared-value', 'only-a-value']);
    const b = withSecrets(root, ['shared-value']);
    a.release();
    a.release();
    root.info('shared-value only-a-value');
    b.release();
    root.info('shared-value');
    expect(out.lines.map((line) => JSON.parse(line).msg)).toEqual(['*** only-a-value', 'shared-value']);
    expect(secretRegistryOf(root).size).toBe(0);
  });

  it('works from any descendant of a root logger', () => {
    const out = capture();
    const child = createLogger({ name: 'api', destination: out }).child({ reqId: 'r1' });
    const scope = withSecrets(child, ['descendant-secret'], { stepId: 's2' });
    scope.logger.warn('descendant-secret');
    expect(out.text()).not.toContain('descendant-secret');
    expect(JSON.parse(out.lines[0] ?? '{}')).toMatchObject({ reqId: 'r1', stepId: 's2', msg: '***' });
    scope.release();
  });

  it('refuses a logger it cannot redact for', () => {
    expect(() => withSecrets(pino({ enabled: false }), ['x-secret'])).toThrow(TypeError);
  });
});
