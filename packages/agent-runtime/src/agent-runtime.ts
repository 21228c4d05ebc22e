import type { Writable } from 'node:stream';
import { runChild } from './child-runner.js';
import { RuntimeError } from './errors.js';
import { EventWriter, fitResult, type ResultData } from './event-writer.js';
import { Git } from './git.js';
import { childGitAuthEnv, redactToken, redactUrl } from './git-credential.js';
import { publishWorkspace } from './git-publish.js';
import { type PreparedWorkspace, prepareWorkspace } from './git-workspace.js';
import { ensureHomeLayout, type HomeLayout, homeLayout } from './home-layout.js';
import { ResultFile } from './result-file.js';
import { parseRuntimeEnv, type RuntimeEnv } from './runtime-env.js';
import { SignalRelay, type SignalSource } from './signal-relay.js';

/** Stdout kept for a chat reply. */
export const MAX_REPLY_BYTES = 256 * 1024;
/** The command when the container is given none. */
export const DEFAULT_COMMAND: readonly [string] = ['bash'];

export interface AgentRuntimeOptions {
  /** The step's command (the container's Cmd); empty: {@link DEFAULT_COMMAND}. */
  argv: readonly string[];
  /** The container's environment (the runtime reads nothing else). */
  env: Readonly<Record<string, string | undefined>>;
  stdout: Writable;
  stderr: Writable;
  signals: SignalSource;
  /** Where the result file's directory is made. */
  tmpDir: string;
  /** The runtime has a terminal (`docker run -it`): the command gets it directly. */
  interactive: boolean;
}

/**
 * One step inside the container: lays out the home, prepares the git workspace, runs the command
 * in it, pushes its changes, and emits the `result` event last. Resolves with the exit code.
 */
export async function runAgentRuntime(options: AgentRuntimeOptions): Promise<number> {
  const { env, stderr } = options;
  const log = (message: string): void => {
    stderr.write(
      `sandfleet-agent-runtime: ${redactToken(message, env[env.SANDFLEET_GIT_TOKEN_ENV || 'GIT_TOKEN'])}\n`,
    );
  };
  const events = new EventWriter({ out: options.stdout, token: env.SANDFLEET_EVENT_TOKEN || undefined });
  const relay = new SignalRelay(options.signals);
  const data: ResultData = { exitCode: 0 };
  try {
    await runStep({ ...options, log, events, relay, data });
  } catch (error) {
    const failure =
      relay.exitCode !== undefined
        ? new RuntimeError('INTERRUPTED', `stopped by ${relay.received}`, { exitCode: relay.exitCode })
        : error instanceof RuntimeError
          ? error
          : new RuntimeError('INTERNAL', messageOf(error), { cause: error });
    log(`error ${failure.code}: ${failure.message}`);
    data.exitCode = failure.exitCode;
    data.error = { code: failure.code, message: failure.message };
  } finally {
    relay.close();
  }
  const fitted = fitResult(data);
  if (fitted.cut.length > 0) log(`result event too large: ${fitted.cut.join(' and ')} cut to fit`);
  events.emit('result', fitted.data);
  return data.exitCode;
}

interface StepContext extends AgentRuntimeOptions {
  log: (message: string) => void;
  events: EventWriter;
  relay: SignalRelay;
  /** Filled in as the step goes, emitted at the end whatever happens. */
  data: ResultData;
}

async function runStep(context: StepContext): Promise<void> {
  const { log, events, relay, data } = context;
  const config = parseRuntimeEnv(context.env);
  const layout = homeLayout({ home: config.home, ...(config.agentId ? { agentId: config.agentId } : {}) });
  await ensureHomeLayout(layout);
  const git = config.workspace && gitFor(config, context);
  let workspace: PreparedWorkspace | undefined;
  if (git !== undefined && config.workspace !== undefined && config.stepId !== undefined) {
    const env = { ...config, workspace: config.workspace, stepId: config.stepId };
    workspace = await prepareWorkspace({ env, layout, git, log }).catch((error: unknown) => {
      throw workspaceError(config, error);
    });
    const { kind, path, branch, sha } = workspace;
    events.emit('workspace.ready', { kind, path, repo: redactUrl(config.workspace.repo), branch, sha });
  }
  if (relay.received !== undefined) throw new Error('interrupted');

  const resultFile = await ResultFile.create(context.tmpDir);
  try {
    const child = runChild({
      argv: context.argv.length > 0 ? (context.argv as [string, ...string[]]) : DEFAULT_COMMAND,
      cwd: workspace?.path ?? layout.home,
      env: childEnv(context.env, config, layout, workspace, resultFile.path),
      stdout: context.stdout,
      stderr: context.stderr,
      captureBytes: config.kind === 'chat' ? MAX_REPLY_BYTES : 0,
      interactive: context.interactive,
    });
    relay.forwardTo(child.kill);
    const outcome = await child.done;
    relay.forwardTo(undefined);
    data.exitCode = outcome.exitCode;
    const { result, warning } = await resultFile.read();
    if (warning !== undefined) log(warning);
    if (result !== undefined) data.result = result;
    if (config.kind === 'chat') data.reply = replyOf(result) ?? outcome.stdout;
  } finally {
    await resultFile.remove();
  }

  if (git !== undefined && workspace !== undefined && config.workspace?.push && data.exitCode === 0) {
    const published = await publishWorkspace({
      git,
      workspace,
      events,
      stepId: config.stepId ?? 'unknown',
      agentId: config.agentId,
      runId: config.runId,
      log,
    }).catch((error: unknown) => {
      throw new RuntimeError('PUBLISH_FAILED', `pushing ${workspace.branch} failed: ${messageOf(error)}`, {
        cause: error,
      });
    });
    if (published.pushed !== undefined) data.commit = published.pushed;
  }
}

function gitFor(config: RuntimeEnv, context: StepContext): Git | undefined {
  if (config.workspace === undefined) return undefined;
  const env = { ...context.env };
  delete env.SANDFLEET_EVENT_TOKEN;
  return new Git({ repo: config.workspace.repo, token: config.gitToken, env, signal: context.relay.signal });
}

/** The command's environment: the container's, without the event token, plus the runtime's. */
function childEnv(
  env: Readonly<Record<string, string | undefined>>,
  config: RuntimeEnv,
  layout: HomeLayout,
  workspace: PreparedWorkspace | undefined,
  resultPath: string,
): Record<string, string | undefined> {
  const result: Record<string, string | undefined> = {
    ...env,
    ...(config.workspace === undefined
      ? {}
      : childGitAuthEnv(config.workspace.repo, config.gitTokenEnv, env)),
    PWD: workspace?.path ?? layout.home,
    SANDFLEET_RESULT_FILE: resultPath,
    ...(workspace === undefined ? {} : { SANDFLEET_WORKSPACE_PATH: workspace.path }),
  };
  delete result.SANDFLEET_EVENT_TOKEN;
  return result;
}

function replyOf(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const reply = (result as { reply?: unknown }).reply;
  return typeof reply === 'string' ? reply : undefined;
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

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
