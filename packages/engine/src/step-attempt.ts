import { randomBytes } from 'node:crypto';
import {
  CHAT_HISTORY_FILE,
  commandArgv,
  DEFAULT_TEAM,
  EVENT_TOKEN_FILE,
  LABELS,
  RUNTIME_ENV,
  RuntimeResult,
  type StepSpec,
} from '@sandfleet/contracts';
import type { StepRunMetrics } from '@sandfleet/metrics';
import type { Sandbox, SandboxEgressEntry, SandboxRunResult, SandboxRuntimeFile } from '@sandfleet/sandbox';
import type { StepEventPublisher } from '@sandfleet/stream';
import { RuntimeEventDemux } from './runtime-event-demux.js';
import type { ResolvedLimits } from './step-limits.js';

/** Everything one container run of a step needs. */
export interface StepAttemptInput {
  spec: StepSpec & { id: string };
  image: string;
  attempt: number;
  workerId: string;
  secrets: Record<string, string>;
  limits: ResolvedLimits;
  stopGraceMs: number;
  /** Labels the container with its fleet, so only this fleet's reapers judge it. */
  fleet?: string;
  /** Files for the runtime under /sandfleet (a chat's prior conversation). */
  runtimeFiles: SandboxRuntimeFile[];
  publisher: StepEventPublisher;
  signal: AbortSignal;
}

/** How the container run ended, and the agent runtime's `result` event when it sent one. */
export interface StepAttemptResult {
  run: SandboxRunResult;
  runtime?: RuntimeResult;
  /** Chat steps: the step's stdout, redacted like the output events, up to {@link MAX_REPLY_BYTES}. */
  stdout: string;
}

/** Most stdout kept as a chat reply. */
export const MAX_REPLY_BYTES = 256 * 1024;

/**
 * Runs one attempt of a step in the sandbox: builds the request and the runtime's environment,
 * streams stdout/stderr to the publisher, and turns the agent runtime's event sequences (with this
 * attempt's token) into typed `runtime` events.
 */
export async function runStepAttempt(
  sandbox: Sandbox,
  input: StepAttemptInput,
  metrics?: StepRunMetrics,
): Promise<StepAttemptResult> {
  const { spec, publisher, workerId } = input;
  const token = randomBytes(18).toString('base64url');
  let runtime: RuntimeResult | undefined;
  const stdout: Buffer[] = [];
  let stdoutBytes = 0;
  const keepStdout = spec.kind === 'chat';
  const stdoutText = (chunk: Buffer) => {
    if (keepStdout && stdoutBytes < MAX_REPLY_BYTES) {
      stdout.push(chunk.subarray(0, MAX_REPLY_BYTES - stdoutBytes));
      stdoutBytes += chunk.length;
    }
    return publisher.output('stdout', chunk);
  };
  const demux = new RuntimeEventDemux(
    token,
    {
      text: stdoutText,
      event: async ({ name, data }) => {
        await publisher.runtime(name, data);
        // Stored as the row's `result` and chat reply: redacted like the event just published.
        if (name === 'result') runtime = RuntimeResult.safeParse(publisher.redactValue(data)).data;
      },
    },
    { maxEventBytes: input.limits.outputBytes },
  );
  // Only an image labelled as the agent runtime has events in its stdout (known before it starts).
  let agentRuntime = false;
  const egress = new EgressEvents(publisher, input.attempt);
  metrics?.containerStarted(workerId);
  let removing = false;
  try {
    const run = await sandbox.run(
      {
        stepId: spec.id,
        agentId: spec.agentId,
        workerId,
        attempt: input.attempt,
        image: input.image,
        argv: commandArgv(spec.command),
        env: { ...spec.env, ...input.secrets },
        runtimeEnv: runtimeEnv(spec, input),
        files: spec.files,
        input: inputText(spec.input),
        runtimeFiles: [...input.runtimeFiles, { name: EVENT_TOKEN_FILE, content: token, private: true }],
        limits: input.limits,
        network: spec.network,
        sharedVault: {
          team: spec.sharedVault?.team ?? DEFAULT_TEAM,
          writable: spec.sharedVault?.access === 'write',
        },
        stopGraceMs: input.stopGraceMs,
        ...(input.fleet === undefined ? {} : { labels: { [LABELS.fleet]: input.fleet } }),
      },
      {
        onImage: (image) => {
          agentRuntime = image.agentRuntime;
        },
        onOutput: (stream, chunk) =>
          stream !== 'stdout'
            ? publisher.output(stream, chunk)
            : agentRuntime
              ? demux.push(chunk)
              : stdoutText(chunk),
        onEgress: (entry) => egress.publish(entry),
        signal: input.signal,
      },
    );
    // The container is removed while the caller records the outcome: it counts as active, and
    // its phases are observed, once it is gone.
    removing = true;
    void run.removed.then(({ destroyMs }) => {
      metrics?.observeContainerPhases({ ...run.timings, destroyMs });
      metrics?.containerStopped(workerId);
    });
    await egress.settled();
    if (agentRuntime) await demux.end();
    if (run.warm.hit) metrics?.observeWarmPool('hit');
    else metrics?.observeWarmPool('miss', run.warm.cause);
    const text = publisher.redact(Buffer.concat(stdout).toString('utf8'));
    return { run, stdout: text, ...(runtime ? { runtime } : {}) };
  } finally {
    if (!removing) metrics?.containerStopped(workerId);
  }
}

/** Egress events kept per attempt; a step making more requests than this gets no more events. */
const MAX_EGRESS_EVENTS = 1000;

/** Publishes the egress proxy's lines of one attempt as `egress` events, in order and bounded. */
class EgressEvents {
  private chain: Promise<void> = Promise.resolve();
  private count = 0;

  constructor(
    private readonly publisher: StepEventPublisher,
    private readonly attempt: number,
  ) {}

  publish(entry: SandboxEgressEntry): void {
    if (++this.count > MAX_EGRESS_EVENTS) return;
    const { ts, client: _client, url: _url, ...rest } = entry;
    // A failed publish fails the attempt through the output path already; never throw from here.
    this.chain = this.chain
      .then(() => this.publisher.egress({ ...rest, attempt: this.attempt, loggedAt: ts }))
      .catch(() => undefined);
  }

  settled(): Promise<void> {
    return this.chain;
  }
}

function inputText(input: unknown): string | undefined {
  if (input === undefined) return undefined;
  return typeof input === 'string' ? input : JSON.stringify(input);
}

/** The variables the agent runtime (and any step) reads about itself. */
function runtimeEnv(spec: StepSpec & { id: string }, input: StepAttemptInput): Record<string, string> {
  const env: Record<string, string> = {
    SANDFLEET_STEP_ID: spec.id,
    SANDFLEET_AGENT_ID: spec.agentId,
    SANDFLEET_KIND: spec.kind,
    SANDFLEET_ATTEMPT: String(input.attempt),
    [RUNTIME_ENV.eventTokenFile]: `/sandfleet/${EVENT_TOKEN_FILE}`,
  };
  if (spec.runId) env.SANDFLEET_RUN_ID = spec.runId;
  if (spec.taskId) env.SANDFLEET_TASK_ID = spec.taskId;
  if (spec.chatSessionId) env.SANDFLEET_CHAT_SESSION_ID = spec.chatSessionId;
  if (spec.workspace) env[RUNTIME_ENV.workspace] = JSON.stringify(spec.workspace);
  if (input.runtimeFiles.some((file) => file.name === CHAT_HISTORY_FILE)) {
    env[RUNTIME_ENV.chatHistoryFile] = `/sandfleet/${CHAT_HISTORY_FILE}`;
  }
  return env;
}
