import { describe, expect, it } from 'vitest';
import { type FieldIssue, formatIssue, ValidationError } from './errors.js';
import { parseOrThrow } from './parse.js';
import { commandArgv } from './step-command.js';
import { fileContentBytes, MAX_FILE_BYTES, MAX_FILES, MAX_FILES_TOTAL_BYTES } from './step-file.js';
import { MAX_INPUT_BYTES, MAX_LABELS, StepSpec, type StepSpecInput } from './step-spec.js';

const base = { agentId: 'agent-1', command: ['echo', 'hi'] } satisfies StepSpecInput;

function parse(value: unknown): StepSpec {
  return parseOrThrow(StepSpec, value, 'step spec');
}

function issuesOf(value: unknown): FieldIssue[] {
  try {
    parse(value);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).code).toBe('VALIDATION_FAILED');
    expect((error as ValidationError).retryable).toBe(false);
    return (error as ValidationError).issues;
  }
  throw new Error('expected the spec to be rejected');
}

const file = (path: string, content = 'x') => ({ path, content });
const AGENT_ID_MESSAGE = 'must match ^[a-z0-9][a-z0-9_-]{0,62}$';

describe('StepSpec accepts', () => {
  it('a minimal spec and applies every default', () => {
    expect(parse(base)).toEqual({
      agentId: 'agent-1',
      command: ['echo', 'hi'],
      kind: 'task',
      env: {},
      secrets: [],
      files: [],
      limits: {},
      network: 'none',
      attempts: 3,
      labels: {},
    });
  });

  it('a spec with every field', () => {
    const full = {
      id: 'step-1.a_b',
      agentId: 'coder_2',
      kind: 'pipeline',
      runId: 'run-7',
      taskId: 'task-9',
      chatSessionId: 'chat-3',
      image: 'registry.local:5000/sandfleet/agent-runtime:V1.2-rc',
      command: ['node', 'main.js'],
      input: { prompt: 'hello', n: 1 },
      env: { LANG: 'C.UTF-8', _private: 'x' },
      secrets: ['GITHUB_TOKEN', 'OPENAI_API_KEY'],
      files: [{ path: '.persona/AGENTS.md', content: '# me', encoding: 'utf8', mode: 0o644 }],
      workspace: { repo: 'git@github.com:acme/app.git', ref: 'main', branch: 'sandfleet/run-7', push: true },
      limits: { timeoutMs: 60_000, memoryMb: 1024, cpus: 0.5, pids: 128, outputBytes: 65_536, diskMb: 2048 },
      network: 'egress',
      priority: 5,
      delayMs: 0,
      attempts: 1,
      labels: { team: 'core', 'sandfleet.dev/source': 'api' },
    } satisfies StepSpecInput;
    expect(parse(full)).toEqual(full);
  });

  it('a script command, defaulting the shell to sh', () => {
    const spec = parse({ ...base, command: { script: 'echo "$HOME"' } });
    expect(spec.command).toEqual({ script: 'echo "$HOME"', shell: 'sh' });
    expect(commandArgv(spec.command)).toEqual(['sh', '-c', 'echo "$HOME"']);
    expect(commandArgv(parse(base).command)).toEqual(['echo', 'hi']);
  });

  it('a base64 file and measures its decoded size', () => {
    const content = Buffer.from([0, 1, 2, 255]).toString('base64');
    const spec = parse({ ...base, files: [{ path: 'bin/blob', content, encoding: 'base64', mode: 0o755 }] });
    expect(spec.files[0]).toEqual({ path: 'bin/blob', content, encoding: 'base64', mode: 0o755 });
    expect(fileContentBytes(spec.files[0] ?? { content: '', encoding: 'utf8' })).toBe(4);
  });

  it('home paths with dots that stay inside the home', () => {
    const paths = ['.persona/AGENTS.md', 'a/...b', '...', 'vault/shared/.note'];
    const spec = { ...base, files: paths.map((p) => file(p)), sharedVault: { access: 'write' } };
    expect(parse(spec).files.map((f) => f.path)).toEqual(paths);
  });

  it('a shared vault of a team, read-only unless it asks for write, and files in it only then', () => {
    expect(parse(base).sharedVault).toBeUndefined();
    expect(parse({ ...base, sharedVault: {} }).sharedVault).toEqual({ access: 'read' });
    expect(parse({ ...base, sharedVault: { team: 'team-a', access: 'write' } }).sharedVault).toEqual({
      team: 'team-a',
      access: 'write',
    });
    const issues = (value: unknown) => issuesOf(value).map(formatIssue);
    expect(issues({ ...base, sharedVault: { team: '../x', access: 'all' } })).toEqual([
      expect.stringMatching(/^sharedVault\.team: must match/),
      'sharedVault.access: must be one of read, write',
    ]);
    expect(issues({ ...base, files: [file('vault/shared/planted.sh'), file('vault/shared')] })).toEqual([
      "files.0.path: is in the shared vault, which needs sharedVault: { access: 'write' }",
      "files.1.path: is in the shared vault, which needs sharedVault: { access: 'write' }",
    ]);
  });

  it('image references with registry port, upper-case tag and digest', () => {
    for (const image of [
      'busybox',
      'sandfleet/step:latest',
      'r.io:5000/a/b:V1',
      `a/b@sha256:${'f'.repeat(64)}`,
    ]) {
      expect(parse({ ...base, image }).image).toBe(image);
    }
  });

  it('its own output unchanged, so the worker can validate producer output again', () => {
    const once = parse({ ...base, kind: 'chat', chatSessionId: 's1', files: [file('a')] });
    expect(parse(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });
});

const tooLargeBase64 = Buffer.alloc(MAX_FILE_BYTES + 1).toString('base64');

/** [what is wrong, spec, expected issue path, expected message] */
const invalid: [string, unknown, string, string][] = [
  ['an upper-case agentId', { ...base, agentId: 'Agent' }, 'agentId', AGENT_ID_MESSAGE],
  ['an agentId over 63 characters', { ...base, agentId: 'a'.repeat(64) }, 'agentId', AGENT_ID_MESSAGE],
  ['an agentId starting with -', { ...base, agentId: '-a' }, 'agentId', AGENT_ID_MESSAGE],
  ['a missing agentId', { command: ['x'] }, 'agentId', 'is required'],
  ['a missing command', { agentId: 'a' }, 'command', 'is required'],
  [
    'a file path escaping with ../',
    { ...base, files: [file('../x')] },
    'files.0.path',
    'must not contain .. segments',
  ],
  [
    'an absolute file path',
    { ...base, files: [file('/etc/passwd')] },
    'files.0.path',
    'must be relative to /home/agent, not absolute',
  ],
  [
    'a file path with a .. segment',
    { ...base, files: [file('a/../b')] },
    'files.0.path',
    'must not contain .. segments',
  ],
  [
    'a file path with an empty segment',
    { ...base, files: [file('a//b')] },
    'files.0.path',
    'must not contain empty or . segments',
  ],
  [
    'a file path with a . segment',
    { ...base, files: [file('./a')] },
    'files.0.path',
    'must not contain empty or . segments',
  ],
  [
    'a file path with a trailing slash',
    { ...base, files: [file('a/')] },
    'files.0.path',
    'must not contain empty or . segments',
  ],
  [
    'a file path with a backslash',
    { ...base, files: [file('a\\b')] },
    'files.0.path',
    'must use / as separator',
  ],
  ['an empty file path', { ...base, files: [file('')] }, 'files.0.path', 'must not be empty'],
  [
    'a repeated file path',
    { ...base, files: [file('a'), file('b'), file('a')] },
    'files.2.path',
    'repeats an earlier file path',
  ],
  [
    'a file over 1 MiB',
    { ...base, files: [file('a', 'x'.repeat(MAX_FILE_BYTES + 1))] },
    'files.0.content',
    `must be at most ${MAX_FILE_BYTES} bytes`,
  ],
  [
    'a base64 file over 1 MiB decoded',
    { ...base, files: [{ path: 'a', content: tooLargeBase64, encoding: 'base64' }] },
    'files.0.content',
    `must be at most ${MAX_FILE_BYTES} bytes`,
  ],
  [
    'a base64 file that is not base64',
    { ...base, files: [{ path: 'a', content: 'not base64!', encoding: 'base64' }] },
    'files.0.content',
    'must be base64',
  ],
  [
    'a file mode above 0o777',
    { ...base, files: [{ ...file('a'), mode: 0o1000 }] },
    'files.0.mode',
    'must be an integer between 0 and 511',
  ],
  [
    'too many files',
    { ...base, files: Array.from({ length: MAX_FILES + 1 }, (_, i) => file(`f${i}`)) },
    'files',
    `must have at most ${MAX_FILES} files`,
  ],
  [
    'files over 8 MiB in total',
    { ...base, files: Array.from({ length: 9 }, (_, i) => file(`f${i}`, 'x'.repeat(MAX_FILE_BYTES))) },
    'files',
    `must total at most ${MAX_FILES_TOTAL_BYTES} bytes`,
  ],
  [
    'an invalid env name',
    { ...base, env: { '1BAD': 'x' } },
    'env.1BAD',
    'must match ^[A-Za-z_][A-Za-z0-9_]{0,127}$',
  ],
  [
    'a reserved SANDFLEET_ env name',
    { ...base, env: { SANDFLEET_X: 'x' } },
    'env.SANDFLEET_X',
    'SANDFLEET_ names are reserved',
  ],
  [
    'a reserved env name in lower case',
    { ...base, env: { sandfleet_x: 'x' } },
    'env.sandfleet_x',
    'SANDFLEET_ names are reserved',
  ],
  ['an env value with NUL', { ...base, env: { A: 'a\0b' } }, 'env.A', 'must not contain NUL'],
  [
    'a lower-case secret name',
    { ...base, secrets: ['api_key'] },
    'secrets.0',
    'must match ^[A-Z_][A-Z0-9_]{0,127}$',
  ],
  ['a repeated secret name', { ...base, secrets: ['A', 'B', 'A'] }, 'secrets.2', 'repeats an earlier name'],
  [
    'a reserved secret name',
    { ...base, secrets: ['SANDFLEET_TOKEN'] },
    'secrets.0',
    'SANDFLEET_ names are reserved',
  ],
  [
    'a secret also set in env',
    { ...base, env: { TOKEN: 'x' }, secrets: ['TOKEN'] },
    'secrets.0',
    'is also set in env',
  ],
  [
    'a timeout below 100 ms',
    { ...base, limits: { timeoutMs: 99 } },
    'limits.timeoutMs',
    'must be an integer between 100 and 604800000',
  ],
  [
    'a fractional timeout',
    { ...base, limits: { timeoutMs: 1000.5 } },
    'limits.timeoutMs',
    'must be an integer between 100 and 604800000',
  ],
  [
    'a memory limit below 8 MiB',
    { ...base, limits: { memoryMb: 4 } },
    'limits.memoryMb',
    'must be an integer between 8 and 1048576',
  ],
  [
    'a cpus limit of 0',
    { ...base, limits: { cpus: 0 } },
    'limits.cpus',
    'must be a number between 0.01 and 1024',
  ],
  [
    'a pids limit above 1000000',
    { ...base, limits: { pids: 1_000_001 } },
    'limits.pids',
    'must be an integer between 8 and 1000000',
  ],
  [
    'an output limit given as a string',
    { ...base, limits: { outputBytes: '4096' } },
    'limits.outputBytes',
    'must be an integer between 1024 and 1073741824',
  ],
  [
    'a disk limit under 16 MiB',
    { ...base, limits: { diskMb: 8 } },
    'limits.diskMb',
    'must be an integer between 16 and 1048576',
  ],
  ['an unknown limit', { ...base, limits: { disk: 1 } }, 'limits.disk', 'is not a known field'],
  [
    'a network other than none or egress',
    { ...base, network: 'host' },
    'network',
    'must be one of none, egress',
  ],
  ['an unknown kind', { ...base, kind: 'batch' }, 'kind', 'must be one of task, pipeline, pulse, chat'],
  ['an unknown top-level field', { ...base, privileged: true }, 'privileged', 'is not a known field'],
  ['an empty argv', { ...base, command: [] }, 'command', 'must have at least one element'],
  [
    'a command given as a string',
    { ...base, command: 'echo hi' },
    'command',
    'must be an argv array or { "script", "shell"? }',
  ],
  ['an argv element with NUL', { ...base, command: ['echo', 'a\0'] }, 'command.1', 'must not contain NUL'],
  ['an empty script', { ...base, command: { script: '' } }, 'command.script', 'must not be empty'],
  [
    'a shell given as a path',
    { ...base, command: { script: 'x', shell: '/bin/bash' } },
    'command.shell',
    'must match ^[a-z][a-z0-9_-]{0,31}$',
  ],
  [
    'a chat step without chatSessionId',
    { ...base, kind: 'chat' },
    'chatSessionId',
    'is required when kind is chat',
  ],
  [
    'a pipeline step without runId',
    { ...base, kind: 'pipeline' },
    'runId',
    'is required when kind is pipeline',
  ],
  ['an id with a space', { ...base, id: 'bad id' }, 'id', 'must match ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'],
  ['an all-digit id', { ...base, id: '42' }, 'id', 'must not be all digits (BullMQ rejects integer job ids)'],
  ['a runId with ..', { ...base, runId: 'a..b' }, 'runId', 'must not contain .. or end with . or .lock'],
  [
    'a taskId ending in .lock',
    { ...base, taskId: 'x.lock' },
    'taskId',
    'must not contain .. or end with . or .lock',
  ],
  ['zero attempts', { ...base, attempts: 0 }, 'attempts', 'must be an integer between 1 and 20'],
  ['priority 0', { ...base, priority: 0 }, 'priority', 'must be an integer between 1 and 2097152'],
  ['a negative delay', { ...base, delayMs: -1 }, 'delayMs', 'must be an integer between 0 and 2592000000'],
  [
    'an upper-case label key',
    { ...base, labels: { Team: 'x' } },
    'labels.Team',
    'must match ^[a-z0-9][a-z0-9._/-]{0,62}$',
  ],
  [
    'too many labels',
    { ...base, labels: Object.fromEntries(Array.from({ length: MAX_LABELS + 1 }, (_, i) => [`l${i}`, 'x'])) },
    'labels',
    `must have at most ${MAX_LABELS} labels`,
  ],
  [
    'a workspace repo that is not a git URL',
    { ...base, workspace: { repo: 'acme/app' } },
    'workspace.repo',
    'must be a git URL (https://, http://, ssh://, git://, file:// or user@host:path)',
  ],
  [
    'a workspace repo with a user and password',
    { ...base, workspace: { repo: 'http://u:pw@git.example/x.git' } },
    'workspace.repo',
    'must not contain credentials; pass them as a secret (see docs/security.md)',
  ],
  [
    'a workspace repo with a token as its user',
    { ...base, workspace: { repo: 'https://ghp_token@github.com/acme/app.git' } },
    'workspace.repo',
    'must not contain credentials; pass them as a secret (see docs/security.md)',
  ],
  [
    'an ssh workspace repo with a password',
    { ...base, workspace: { repo: 'ssh://git:pw@git.example/x.git' } },
    'workspace.repo',
    'must not contain credentials; pass them as a secret (see docs/security.md)',
  ],
  [
    'a workspace branch that looks like an option',
    { ...base, workspace: { repo: 'https://x/y.git', branch: '--upload-pack=sh' } },
    'workspace.branch',
    'must not start with - or contain whitespace',
  ],
  [
    'an upper-case image repository',
    { ...base, image: 'Sandfleet/step' },
    'image',
    'must be a Docker image reference',
  ],
  [
    'text input over 1 MiB',
    { ...base, input: 'x'.repeat(MAX_INPUT_BYTES + 1) },
    'input',
    `must be at most ${MAX_INPUT_BYTES} bytes`,
  ],
  [
    'JSON input over 1 MiB',
    { ...base, input: { text: 'x'.repeat(MAX_INPUT_BYTES) } },
    'input',
    `must be at most ${MAX_INPUT_BYTES} bytes`,
  ],
  ['input that is not JSON', { ...base, input: 10n }, 'input', 'must be text or JSON'],
  ['a spec that is not an object', 'agentId=a', '', 'Invalid input: expected object, received string'],
];

describe('StepSpec rejects', () => {
  it.each(invalid)('%s', (_what, spec, path, message) => {
    expect(issuesOf(spec)).toEqual([{ path, message }]);
  });

  it('every problem of a spec at once, and names them in the error message', () => {
    const issues = issuesOf({ agentId: 'A', kind: 'chat', command: [], secrets: ['x'], extra: 1 });
    expect(issues).toEqual([
      { path: 'agentId', message: AGENT_ID_MESSAGE },
      { path: 'command', message: 'must have at least one element' },
      { path: 'secrets.0', message: 'must match ^[A-Z_][A-Z0-9_]{0,127}$' },
      { path: 'extra', message: 'is not a known field' },
      { path: 'chatSessionId', message: 'is required when kind is chat' },
    ]);
    expect(() => parse({ ...base, attempts: 0 })).toThrow(
      'invalid step spec: attempts: must be an integer between 1 and 20',
    );
  });
});

describe('workspace.repo credentials', () => {
  it('accepts ssh users, which name an account, and URLs without user info', () => {
    for (const repo of ['ssh://git@git.example/x.git', 'git@github.com:acme/app.git', 'https://h/x@y.git']) {
      expect(parse({ ...base, workspace: { repo } }).workspace?.repo).toBe(repo);
    }
  });
});
