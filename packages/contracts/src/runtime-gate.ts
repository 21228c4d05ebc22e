import * as z from 'zod';

/**
 * The warm-container gate (v1): a warm container is created and started before any step is
 * given to it, with its runtime started as `sandfleet-agent-runtime --sandfleet-gate`. The
 * runtime then reads one {@link RuntimeGateMessage} from stdin (a JSON line, or everything up to
 * EOF), writes its files under `/sandfleet/`, and runs the step exactly as a cold container runs
 * it with that argv, those runtime variables and those files. Nothing of a step (its environment,
 * secrets, input, event token) is in the container before the message.
 */
export const RUNTIME_GATE_ARG = '--sandfleet-gate';

/** Most bytes of a gate message the runtime reads. */
export const MAX_RUNTIME_GATE_BYTES = 64 * 1024 * 1024;

/** One file the runtime writes to `/sandfleet/<name>` before the step runs. */
export const RuntimeGateFile = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/),
  content: z.string(),
  /** Owner root, mode 0400 (the event token, the step's environment); else mode 0444. */
  private: z.boolean(),
});
export type RuntimeGateFile = z.infer<typeof RuntimeGateFile>;

/** What the worker writes to a warm container's stdin when it gives it a step. */
export const RuntimeGateMessage = z.object({
  /** The step's command, as a cold container's `Cmd`. */
  argv: z.array(z.string()),
  /** The runtime's variables (`SANDFLEET_*`), as a cold container's `Env` in an agent-runtime image. */
  env: z.record(z.string(), z.string()),
  files: z.array(RuntimeGateFile),
});
export type RuntimeGateMessage = z.infer<typeof RuntimeGateMessage>;
