import type { Writable } from 'node:stream';
import { MAX_CHAT_REPLY_BYTES, RUNTIME_ENV, type RuntimeResult } from '@sandfleet/contracts';
import { killAgentProcesses } from './agent-processes.js';
import { type AgentWork, agentUserWork, localAgentWork, messageOf, type Prepared } from './agent-work.js';
import { runChild } from './child-runner.js';
import { RuntimeError } from './errors.js';
import { EventWriter, fitResult } from './event-writer.js';
import { childGitAuthEnv, redactToken } from './git-credential.js';
import type { PreparedWorkspace } from './git-workspace.js';
import { DEFAULT_GIT_TOKEN_ENV, parseRuntimeEnv, type RuntimeEnv } from './runtime-env.js';
import { SignalRelay, type SignalSource } from './signal-relay.js';

/** The command when the container is given none. */
export const DEFAULT_COMMAND: readonly [string] = ['bash'];

/** The user the step and the runtime's work in the home run as, when the runtime is root. */
export interface AgentUser {
  uid: number;
  gid: number;
  /** The runtime's `main.js`, which runs the work in the home as this user. */
  mainPath: string;
}

export interface AgentRuntimeOptions {
  /** The step's command (the container's Cmd); empty: {@link DEFAULT_COMMAND}. */
  argv: readonly string[];
  /** The runtime's environment (the worker's `SANDFLEET_*` variables and the image's). */
  env: Readonly<Record<string, string | undefined>>;
  /**
   * The step's own environment (its `env`, secrets and input variables), given to the command
   * only, never to the runtime's git or helpers. @defaultValue `{}`
   */
  stepEnv?: Readonly<Record<string, string>>;
  /**
   * Run the command, and the runtime's work in the home, as this user (the runtime itself runs as
   * root, which the step then cannot trace, signal or read). Undefined: all in this process.
   */
  agentUser?: AgentUser;
  stdout: Writable;
  stderr: Writable;
  signals: SignalSource;
  /** Where the result file's directory is made. */
  tmpDir: string;
  /** The runtime has a terminal (`docker run -it`): the command gets it directly. */
  interactive: boolean;
  /** The home prepared before the step arrived (a warm container, see {@link prepareEarly}). */
  preparedEarly?: EarlyPrepared;
}

/** The work before a step, done by a warm container while it waited for the step. */
export interface EarlyPrepared {
  home: string;
  agentId: string | undefined;
  /** Undefined when it failed: the step then prepares as usual (and reports the failure). */
  prepared: Promise<Prepared | undefined>;
}

/**
 * Lays out the agent's home and makes the result file's directory before a warm container's
 * step arrives, as the agent (a helper process, while no process of the agent exists), from the
 * container's own environment (the image's and `SANDFLEET_AGENT_ID`). Only the preparation of a
 * step without a workspace can be done ahead: undefined for anything else.
 */
export function prepareEarly(options: {
  env: Readonly<Record<string, string | undefined>>;
  agentUser: AgentUser;
  stderr: Writable;
  tmpDir: string;
}): EarlyPrepared | undefined {
  let config: RuntimeEnv;
  try {
    config = parseRuntimeEnv(options.env, {});
  } catch {
    return undefined;
  }
  if (config.workspace !== undefined) return undefined;
  const work = agentUserWork({
    ...options.agentUser,
    env: options.env,
    config,
    events: { emit: () => undefined },
    stderr: options.stderr,
    signal: new AbortController().signal,
    tmpDir: options.tmpDir,
  });
  return { home: config.home, agentId: config.agentId, prepared: work.prepare().catch(() => undefined) };
}

/** A line on stderr from the runtime, with the git token redacted. */
export function runtimeLog(stderr: Writable, gitToken: string | undefined): (message: string) => void {
  return (message) => {
    stderr.write(`sandfleet-agent-runtime: ${redactToken(message, gitToken)}\n`);
  };
}

/**
 * One step inside the container: lays out the home, prepares the git workspace, runs the command
 * in it, pushes its changes, and emits the `result` event last. Resolves with the exit code.
 */
export async function runAgentRuntime(options: AgentRuntimeOptions): Promise<number> {
  const { env, stderr } = options;
  const secrets = { ...env, ...options.stepEnv };
  const log = runtimeLog(stderr, secrets[env[RUNTIME_ENV.gitTokenEnv] || DEFAULT_GIT_TOKEN_ENV]);
  const events = new EventWriter({ out: options.stdout, token: env[RUNTIME_ENV.eventToken] || undefined });
  const relay = new SignalRelay(options.signals);
  const data: RuntimeResult = { exitCode: 0 };
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
  data: RuntimeResult;
}

async function runStep(context: StepContext): Promise<void> {
  const { log, relay, data, agentUser } = context;
  const stepEnv = context.stepEnv ?? {};
  const config = parseRuntimeEnv(context.env, { ...context.env, ...stepEnv });
  const work = agentWork(context, config);
  const early = context.preparedEarly;
  const sameHome =
    early !== undefined &&
    config.workspace === undefined &&
    early.home === config.home &&
    early.agentId === config.agentId;
  const prepared = (sameHome ? await early.prepared : undefined) ?? (await work.prepare());
  const { workspace } = prepared;
  if (relay.received !== undefined) throw new Error('interrupted');

  const eventsOn = config.eventToken !== undefined;
  const child = runChild({
    argv: context.argv.length > 0 ? (context.argv as [string, ...string[]]) : DEFAULT_COMMAND,
    cwd: workspace?.path ?? config.home,
    env: childEnv(context.env, stepEnv, config, workspace, prepared.resultPath),
    stdout: context.stdout,
    stderr: context.stderr,
    captureBytes: config.kind === 'chat' ? MAX_CHAT_REPLY_BYTES : 0,
    // With events on, the step never writes to the runtime's stdout itself.
    interactive: context.interactive && !eventsOn,
    escapeEvents: eventsOn,
    ...(agentUser === undefined ? {} : { user: { uid: agentUser.uid, gid: agentUser.gid } }),
  });
  relay.forwardTo(child.kill);
  const outcome = await child.done;
  relay.forwardTo(undefined);
  data.exitCode = outcome.exitCode;
  // Nothing of the step may outlive it into the runtime's work as the same uid.
  if (agentUser !== undefined) await killAgentProcesses(agentUser.uid);

  const finished = await work.finish({
    ...(workspace === undefined ? {} : { workspace }),
    resultPath: prepared.resultPath,
    exitCode: outcome.exitCode,
  });
  if (finished.warning !== undefined) log(finished.warning);
  if (finished.result !== undefined) data.result = finished.result;
  if (config.kind === 'chat') data.reply = replyOf(finished.result) ?? outcome.stdout;
  if (finished.commit !== undefined) data.commit = finished.commit;
}

function agentWork(context: StepContext, config: RuntimeEnv): AgentWork {
  const { agentUser } = context;
  const env = { ...context.env };
  delete env[RUNTIME_ENV.eventToken];
  const shared = { config, env, events: context.events, log: context.log, signal: context.relay.signal };
  if (agentUser === undefined) return localAgentWork({ ...shared, tmpDir: context.tmpDir });
  return agentUserWork({ ...shared, ...agentUser, stderr: context.stderr, tmpDir: context.tmpDir });
}

/** The variables of the runtime the command never gets. */
const RUNTIME_ONLY = [RUNTIME_ENV.eventToken, RUNTIME_ENV.eventTokenFile, RUNTIME_ENV.stepEnvFile];

/** The command's environment: the runtime's without its secrets, the step's, plus the runtime's additions. */
function childEnv(
  env: Readonly<Record<string, string | undefined>>,
  stepEnv: Readonly<Record<string, string>>,
  config: RuntimeEnv,
  workspace: PreparedWorkspace | undefined,
  resultPath: string,
): Record<string, string | undefined> {
  const base = { ...env, ...stepEnv };
  const result: Record<string, string | undefined> = {
    ...base,
    ...(config.workspace === undefined
      ? {}
      : childGitAuthEnv(config.workspace.repo, config.gitTokenEnv, base)),
    PWD: workspace?.path ?? config.home,
    SANDFLEET_RESULT_FILE: resultPath,
    ...(workspace === undefined ? {} : { SANDFLEET_WORKSPACE_PATH: workspace.path }),
  };
  for (const name of RUNTIME_ONLY) delete result[name];
  return result;
}

function replyOf(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const reply = (result as { reply?: unknown }).reply;
  return typeof reply === 'string' ? reply : undefined;
}
