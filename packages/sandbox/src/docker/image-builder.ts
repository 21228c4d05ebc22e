import { readdir } from 'node:fs/promises';
import Docker from 'dockerode';
import { SandboxError } from '../errors.js';
import { toSandboxError } from './docker-errors.js';
import { DEFAULT_SOCKET_PATH, type DockerSandboxOptions } from './docker-sandbox-options.js';

/** Options of {@link buildImage}. */
export interface BuildImageOptions extends Pick<DockerSandboxOptions, 'socketPath' | 'host' | 'port'> {
  /** Folder sent to the engine as the build context; its `.dockerignore` applies. */
  contextDir: string;
  /** Path of the Dockerfile inside `contextDir`. @defaultValue 'Dockerfile' */
  dockerfile?: string;
  /** Name given to the built image, `repository:tag`. */
  tag: string;
  /** Values of the Dockerfile's `ARG`s. */
  buildArgs?: Record<string, string>;
  /** Receives each line of build output in order: `Step n/m : …`, the steps' own output, results. */
  onProgress?: (line: string) => void;
  /** Aborting it stops the build (the engine cancels it when the connection closes). */
  signal?: AbortSignal;
}

/** What {@link buildImage} built. */
export interface BuildImageResult {
  tag: string;
  /** `sha256:…` id of the image. */
  imageId: string;
}

/** One JSON message of the engine's build stream (classic builder). */
interface BuildMessage {
  stream?: string;
  status?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

const STEP_LINE = /^Step \d+\/\d+ : /;

/**
 * Builds an image from a folder on this machine with the engine's classic builder, streaming the
 * build output to `onProgress`. Never pulls: the base image must already be local.
 *
 * Rejects with `IMAGE_BUILD_FAILED` (the message and `context.step` name the failing step),
 * `DOCKER_UNAVAILABLE` when the engine cannot be reached, or `ABORTED` when `signal` fired.
 */
export async function buildImage(options: BuildImageOptions): Promise<BuildImageResult> {
  const { tag } = options;
  const docker = new Docker(
    options.host
      ? { host: options.host, port: options.port ?? 2375, protocol: 'http' }
      : { socketPath: options.socketPath ?? DEFAULT_SOCKET_PATH },
  );
  const src = await readdir(options.contextDir).catch((error: unknown) => {
    throw new SandboxError('IMAGE_BUILD_FAILED', `build context ${options.contextDir} unreadable`, {
      retryable: false,
      cause: error,
      context: { tag },
    });
  });
  throwIfAborted(options.signal, tag);

  let stream: NodeJS.ReadableStream;
  try {
    stream = await docker.buildImage(
      { context: options.contextDir, src },
      {
        t: tag,
        dockerfile: options.dockerfile ?? 'Dockerfile',
        buildargs: options.buildArgs ?? {},
        rm: true,
        forcerm: true,
        abortSignal: options.signal,
      },
    );
  } catch (error) {
    if (options.signal?.aborted) throw aborted(tag, error);
    throw toSandboxError(error, 'IMAGE_BUILD_FAILED', `building ${tag} failed`, { tag });
  }

  const outcome = await followBuild(stream, options.onProgress, options.signal);
  if (outcome.aborted) throw aborted(tag, options.signal?.reason);
  if (outcome.error !== undefined) {
    const at = outcome.step === undefined ? '' : ` at ${outcome.step}`;
    throw new SandboxError('IMAGE_BUILD_FAILED', `building ${tag} failed${at}: ${outcome.error}`, {
      retryable: false,
      context: { tag, step: outcome.step },
    });
  }
  if (outcome.streamError !== undefined) {
    throw toSandboxError(outcome.streamError, 'IMAGE_BUILD_FAILED', `building ${tag} failed`, { tag });
  }
  try {
    const image = await docker.getImage(tag).inspect();
    return { tag, imageId: outcome.imageId ?? image.Id };
  } catch (error) {
    throw toSandboxError(error, 'IMAGE_BUILD_FAILED', `built ${tag} but cannot inspect it`, { tag });
  }
}

interface BuildOutcome {
  imageId?: string;
  /** The engine's error message, when a step (or the build setup) failed. */
  error?: string;
  /** The last `Step n/m : …` line seen. */
  step?: string;
  /** The connection failed before the build finished. */
  streamError?: unknown;
  /** The signal fired before the build finished. */
  aborted?: boolean;
}

/** Reads the build stream to its end: newline-delimited JSON messages, text split across them. */
function followBuild(
  stream: NodeJS.ReadableStream,
  onProgress: ((line: string) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<BuildOutcome> {
  const outcome: BuildOutcome = {};
  let json = '';
  let text = '';
  const emit = (line: string) => {
    const clean = line.replace(/\r$/, '');
    if (STEP_LINE.test(clean)) outcome.step = clean;
    if (clean.trim() !== '') onProgress?.(clean);
  };
  const handle = (message: BuildMessage) => {
    if (message.aux?.ID) outcome.imageId = message.aux.ID;
    if (message.stream !== undefined) {
      text += message.stream;
      const lines = text.split('\n');
      text = lines.pop() ?? '';
      for (const line of lines) emit(line);
    }
    if (message.status !== undefined) emit(message.id ? `${message.id}: ${message.status}` : message.status);
    if (message.error !== undefined || message.errorDetail !== undefined) {
      outcome.error = (message.errorDetail?.message ?? message.error ?? 'unknown error').trim();
    }
  };

  return new Promise((resolve) => {
    let settled = false;
    const finish = (streamError?: unknown) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      if (json.trim() !== '') parseLine(json);
      if (text !== '') emit(text);
      if (streamError !== undefined) outcome.streamError = streamError;
      resolve(outcome);
    };
    const parseLine = (line: string) => {
      if (line.trim() === '') return;
      try {
        handle(JSON.parse(line) as BuildMessage);
      } catch {
        emit(line);
      }
    };
    const onAbort = () => {
      outcome.aborted = true;
      (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
      finish();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('data', (chunk: Buffer | string) => {
      json += chunk.toString();
      const lines = json.split('\n');
      json = lines.pop() ?? '';
      for (const line of lines) parseLine(line);
    });
    stream.on('end', () => finish());
    stream.on('close', () => finish());
    stream.on('error', (error: unknown) => finish(error));
  });
}

function throwIfAborted(signal: AbortSignal | undefined, tag: string): void {
  if (signal?.aborted) throw aborted(tag, signal.reason);
}

function aborted(tag: string, cause: unknown): SandboxError {
  return new SandboxError('ABORTED', `building ${tag} was aborted`, {
    retryable: false,
    cause,
    context: { tag },
  });
}
