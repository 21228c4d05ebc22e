import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import {
  RUNTIME_ENV,
  RuntimeErrorCode,
  type RuntimeEventMap,
  type RuntimeEventName,
} from '@sandfleet/contracts';
import { RuntimeError } from './errors.js';
import type { RuntimeEvents } from './event-writer.js';
import { Git, proxyEnvOf, SAFE_PATH } from './git.js';
import { redactUrl } from './git-credential.js';
import { publishWorkspace } from './git-publish.js';
import { type PreparedWorkspace, prepareWorkspace } from './git-workspace.js';
import { ensureHomeLayout, homeLayout } from './home-layout.js';
import { ResultFile } from './result-file.js';
import { DEFAULT_GIT_TOKEN_ENV, parseRuntimeEnv, type RuntimeEnv } from './runtime-env.js';
import type { SignalSource } from './signal-relay.js';
import { SignalRelay } from './signal-relay.js';

/** The first argument of `main.js` that makes it the runtime's helper in the agent's home. */
export const AGENT_WORK_ARG = '--sandfleet-agent-work';

/** What the work before the step hands over to it. */
export interface Prepared {
  workspace?: PreparedWorkspace;
  /** `$SANDFLEET_RESULT_FILE`, in a fresh directory of the agent's. */
  resultPath: string;
}

export interface FinishInput {
  workspace?: PreparedWorkspace;
  resultPath: string;
  /** The command's exit code: only 0 commits and pushes. */
  exitCode: number;
}

export interface Finished {
  result?: unknown;
  /** Why a result file that exists was not used. */
  warning?: string;
  /** The commit pushed. */
  commit?: string;
}

/**
 * The runtime's work in the agent's home (layout, git workspace, result file, commit and push),
 * before and after the step's command. It writes files the agent owns, so it runs as the agent:
 * {@link localAgentWork} in the runtime's own process when the runtime already is the agent, or
 * {@link agentUserWork} in a helper process of the agent's uid while no step process exists.
 */
export interface AgentWork {
  prepare(): Promise<Prepared>;
  finish(input: FinishInput): Promise<Finished>;
}

export interface AgentWorkContext {
  config: RuntimeEnv;
  /** The runtime's environment (its proxy variables reach its git). */
  env: Readonly<Record<string, string | undefined>>;
  events: RuntimeEvents;
  log: (message: string) => void;
  signal: AbortSignal;
  tmpDir: string;
}

/** The work done in this process. */
export function localAgentWork(context: AgentWorkContext): AgentWork {
  const { config, events, log } = context;
  const layout = homeLayout({ home: config.home, ...(config.agentId ? { agentId: config.agentId } : {}) });
  const git =
    config.workspace &&
    new Git({
      repo: config.workspace.repo,
      token: config.gitToken,
      ceilings: [layout.home, layout.taskWorkspaces],
      signal: context.signal,
      proxyEnv: proxyEnvOf(context.env),
    });
  return {
    async prepare() {
      await ensureHomeLayout(layout);
      let workspace: PreparedWorkspace | undefined;
      if (git !== undefined && config.workspace !== undefined && config.stepId !== undefined) {
        const env = { ...config, workspace: config.workspace, stepId: config.stepId };
        workspace = await prepareWorkspace({ env, layout, git, log }).catch((error: unknown) => {
          throw workspaceError(config, error);
        });
        const { kind, path, branch, sha } = workspace;
        events.emit('workspace.ready', { kind, path, repo: redactUrl(config.workspace.repo), branch, sha });
      }
      const resultFile = await ResultFile.create(context.tmpDir);
      return { ...(workspace === undefined ? {} : { workspace }), resultPath: resultFile.path };
    },

    async finish(input) {
      const resultFile = ResultFile.at(input.resultPath);
      const finished: Finished = {};
      try {
        const { result, warning } = await resultFile.read();
        if (warning !== undefined) finished.warning = warning;
        if (result !== undefined) finished.result = result;
      } finally {
        await resultFile.remove();
      }
      const { workspace } = input;
      if (git === undefined || workspace === undefined || !config.workspace?.push || input.exitCode !== 0) {
        return finished;
      }
      const published = await publishWorkspace({
        git,
        workspace,
        events,
        repo: config.workspace.repo,
        stepId: config.stepId ?? 'unknown',
        agentId: config.agentId,
        runId: config.runId,
        log,
      }).catch((error: unknown) => {
        throw new RuntimeError('PUBLISH_FAILED', `pushing ${workspace.branch} failed: ${messageOf(error)}`, {
          cause: error,
        });
      });
      if (published.pushed !== undefined) finished.commit = published.pushed;
      return finished;
    },
  };
}

/** The request a helper reads from its stdin. */
interface WorkRequest {
  phase: 'prepare' | 'finish';
  /** The runtime's `SANDFLEET_*` environment (never the event token, never the step's). */
  env: Record<string, string | undefined>;
  /** The git token, when there is one. */
  gitToken?: string;
  tmpDir: string;
  /** A stop signal already reached the runtime: git is not run. */
  interrupted: boolean;
  input?: FinishInput;
}

/** The one JSON line a helper writes to its stdout. */
type WorkReply =
  | { ok: true; value: Prepared | Finished; events: WorkEvent[] }
  | { ok: false; error: { code: string; message: string }; events: WorkEvent[] };
type WorkEvent = { [N in RuntimeEventName]: { name: N; data: RuntimeEventMap[N] } }[RuntimeEventName];

export interface AgentUserWorkOptions {
  uid: number;
  gid: number;
  /** The runtime's `main.js`, run again as the helper. */
  mainPath: string;
  /** The runtime's environment, without the event token. */
  env: Readonly<Record<string, string | undefined>>;
  config: RuntimeEnv;
  events: RuntimeEvents;
  stderr: Writable;
  signal: AbortSignal;
  tmpDir: string;
}

/**
 * The work done by a helper process running as the agent (uid/gid, no supplementary groups,
 * an environment of PATH alone), one per phase. The runtime starts it only while no other
 * process of the agent exists (before the step, and after it once they are all killed), so
 * nothing can trace or hijack it; its reply (events included) is read from a pipe of the
 * runtime's own.
 */
export function agentUserWork(options: AgentUserWorkOptions): AgentWork {
  const call = async (phase: WorkRequest['phase'], input?: FinishInput): Promise<unknown> => {
    const request: WorkRequest = {
      phase,
      env: options.env,
      ...(options.config.gitToken === undefined ? {} : { gitToken: options.config.gitToken }),
      tmpDir: options.tmpDir,
      interrupted: options.signal.aborted,
      ...(input === undefined ? {} : { input }),
    };
    const reply = await runHelper(options, JSON.stringify(request));
    for (const event of reply.events) options.events.emit(event.name, event.data as never);
    if (!reply.ok) {
      throw new RuntimeError(RuntimeErrorCode.catch('INTERNAL').parse(reply.error.code), reply.error.message);
    }
    return reply.value;
  };
  return {
    prepare: () => call('prepare') as Promise<Prepared>,
    finish: async (input) => {
      // No workspace to publish and no result file to read (looked at once every process of the
      // agent is gone): no helper. The directory goes with the single-use container's /tmp.
      if (input.workspace === undefined && !(await ResultFile.mayExist(input.resultPath))) return {};
      return call('finish', input) as Promise<Finished>;
    },
  };
}

function runHelper(options: AgentUserWorkOptions, request: string): Promise<WorkReply> {
  const child = spawn(process.execPath, [options.mainPath, AGENT_WORK_ARG], {
    uid: options.uid,
    gid: options.gid,
    cwd: '/',
    env: { PATH: SAFE_PATH, LANG: 'C.UTF-8' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stop = () => child.kill('SIGTERM');
  options.signal.addEventListener('abort', stop, { once: true });
  child.stdin.on('error', () => {});
  child.stdin.end(request);
  child.stderr.pipe(options.stderr, { end: false });
  const out: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      options.signal.removeEventListener('abort', stop);
      try {
        resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as WorkReply);
      } catch {
        reject(
          new RuntimeError('INTERNAL', `the runtime's helper ended with ${signal ?? code} and no reply`),
        );
      }
    });
  });
}

export interface ServeAgentWorkOptions {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  signals: SignalSource;
  log: (stderr: Writable, token: string | undefined) => (message: string) => void;
}

/** The helper's side: reads one {@link WorkRequest}, does it, writes one {@link WorkReply}. */
export async function serveAgentWork(options: ServeAgentWorkOptions): Promise<number> {
  const chunks: Buffer[] = [];
  for await (const chunk of options.stdin) chunks.push(chunk as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WorkRequest;
  const events: WorkEvent[] = [];
  const relay = new SignalRelay(options.signals);
  const controller = new AbortController();
  if (request.interrupted) controller.abort();
  relay.signal.addEventListener('abort', () => controller.abort(), { once: true });
  let reply: WorkReply;
  try {
    const config = parseRuntimeEnv(request.env, {
      [request.env[RUNTIME_ENV.gitTokenEnv] || DEFAULT_GIT_TOKEN_ENV]: request.gitToken,
    });
    const work = localAgentWork({
      config,
      env: request.env,
      events: { emit: (name, data) => events.push({ name, data } as WorkEvent) },
      log: options.log(options.stderr, request.gitToken),
      signal: controller.signal,
      tmpDir: request.tmpDir,
    });
    const value =
      request.phase === 'prepare' ? await work.prepare() : await work.finish(request.input as FinishInput);
    reply = { ok: true, value, events };
  } catch (error) {
    const code = error instanceof RuntimeError ? error.code : 'INTERNAL';
    reply = { ok: false, error: { code, message: messageOf(error) }, events };
  } finally {
    relay.close();
  }
  await new Promise<void>((resolve) => options.stdout.write(`${JSON.stringify(reply)}\n`, () => resolve()));
  return 0;
}

function workspaceError(config: RuntimeEnv, error: unknown): RuntimeError {
  const message = messageOf(error);
  const auth = /Authentication failed|could not read (Username|Password)|\b40[13]\b/i.test(message);
  const hint = !auth
    ? ''
    : config.gitToken === undefined
      ? ` (the repository needs a token: $${config.gitTokenEnv} is not set)`
      : ` (the token in $${config.gitTokenEnv} was refused)`;
  const repo = redactUrl(config.workspace?.repo ?? '');
  return new RuntimeError(
    'WORKSPACE_FAILED',
    `preparing the workspace of ${repo} failed${hint}: ${message}`,
    {
      cause: error,
    },
  );
}

/** The message of an error, or the thing thrown as text. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
