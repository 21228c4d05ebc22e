import {
  AGENT_ID_PATTERN,
  type FieldIssue,
  fileContentBytes,
  formatIssue,
  homePathProblem,
  ID_PATTERN,
  inSharedVault,
  MAX_FILE_BYTES,
  MAX_FILES,
  MAX_FILES_TOTAL_BYTES,
  MAX_INPUT_BYTES,
  StepNetwork,
  TEAM_PATTERN,
} from '@sandfleet/contracts';
import { SandboxError } from './errors.js';
import { RUNTIME_FILE_NAME, type SandboxRunRequest } from './sandbox.js';

const ENV_NAME = /^[^=\0]+$/;
/** Docker refuses memory limits under 6 MiB. */
const MIN_MEMORY_MB = 6;
/** Smaller ext4 filesystems lose most of their space to the journal and metadata. */
const MIN_DISK_MB = 16;

/**
 * Checks a run request again at the sandbox boundary (the worker validated the StepSpec, but
 * this is the last line before the container engine). Returns every problem found.
 */
export function runRequestIssues(request: SandboxRunRequest): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const problem = (path: string, message: string) => issues.push({ path, message });

  if (!ID_PATTERN.test(request.stepId)) problem('stepId', `must match ${ID_PATTERN.source}`);
  if (!AGENT_ID_PATTERN.test(request.agentId)) problem('agentId', `must match ${AGENT_ID_PATTERN.source}`);
  if (!isLabelValue(request.workerId) || request.workerId === '')
    problem('workerId', 'must be a non-empty label value');
  if (!Number.isSafeInteger(request.attempt) || request.attempt < 0)
    problem('attempt', 'must be an integer ≥ 0');
  if (request.image.length === 0 || /[\s\0]/.test(request.image))
    problem('image', 'must be an image reference');
  if (request.argv.length === 0) problem('argv', 'must have at least one element');
  request.argv.forEach((arg, index) => {
    if (arg.includes('\0')) problem(`argv.${index}`, 'must not contain NUL');
  });
  for (const [name, value] of Object.entries(request.env)) {
    if (!ENV_NAME.test(name)) problem(`env.${name}`, 'name must not be empty or contain = or NUL');
    if (value.includes('\0')) problem(`env.${name}`, 'must not contain NUL');
  }
  fileIssues(request, problem);
  if (request.input !== undefined && Buffer.byteLength(request.input, 'utf8') > MAX_INPUT_BYTES) {
    problem('input', `must be at most ${MAX_INPUT_BYTES} bytes`);
  }
  (request.runtimeFiles ?? []).forEach((file, index) => {
    if (!RUNTIME_FILE_NAME.test(file.name))
      problem(`runtimeFiles.${index}.name`, `must match ${RUNTIME_FILE_NAME.source}`);
  });
  limitIssues(request, problem);
  if (!StepNetwork.options.includes(request.network)) problem('network', 'must be none or egress');
  sharedVaultIssues(request, problem);
  for (const [key, value] of Object.entries(request.labels ?? {})) {
    if (key === '' || !isLabelValue(key) || !isLabelValue(value))
      problem(`labels.${key}`, 'must be printable text');
  }
  const grace = request.stopGraceMs;
  if (grace !== undefined && !(Number.isFinite(grace) && grace >= 0)) problem('stopGraceMs', 'must be ≥ 0');
  return issues;
}

/** Throws `INVALID_REQUEST` naming every problem of the request. */
export function assertValidRunRequest(request: SandboxRunRequest): void {
  const issues = runRequestIssues(request);
  if (issues.length === 0) return;
  throw new SandboxError('INVALID_REQUEST', `invalid run request: ${issues.map(formatIssue).join('; ')}`, {
    retryable: false,
    context: { stepId: request.stepId, agentId: request.agentId, issues },
  });
}

function sharedVaultIssues(
  request: SandboxRunRequest,
  problem: (path: string, message: string) => void,
): void {
  const vault = request.sharedVault;
  if (vault !== undefined && !TEAM_PATTERN.test(vault.team))
    problem('sharedVault.team', `must match ${TEAM_PATTERN.source}`);
  if (vault?.writable === true) return;
  request.files.forEach((file, index) => {
    if (inSharedVault(file.path))
      problem(`files.${index}.path`, 'is in the shared vault, which this run mounts read-only');
  });
}

function fileIssues(request: SandboxRunRequest, problem: (path: string, message: string) => void): void {
  if (request.files.length > MAX_FILES) problem('files', `at most ${MAX_FILES} files`);
  const paths = new Set(request.files.map((file) => file.path));
  const seen = new Set<string>();
  let total = 0;
  request.files.forEach((file, index) => {
    const where = `files.${index}`;
    const pathProblem = homePathProblem(file.path);
    if (pathProblem) problem(`${where}.path`, pathProblem);
    if (seen.has(file.path)) problem(`${where}.path`, 'repeats an earlier file path');
    seen.add(file.path);
    if (!pathProblem && ancestors(file.path).some((dir) => paths.has(dir))) {
      problem(`${where}.path`, 'lies under another file of the request');
    }
    if (file.encoding !== 'utf8' && file.encoding !== 'base64')
      problem(`${where}.encoding`, 'must be utf8 or base64');
    if (file.mode !== undefined && !(Number.isInteger(file.mode) && file.mode >= 0 && file.mode <= 0o777)) {
      problem(`${where}.mode`, 'must be permission bits between 0 and 0o777');
    }
    const size = fileContentBytes(file);
    total += size;
    if (size > MAX_FILE_BYTES) problem(`${where}.content`, `must be at most ${MAX_FILE_BYTES} bytes`);
  });
  if (total > MAX_FILES_TOTAL_BYTES) problem('files', `must total at most ${MAX_FILES_TOTAL_BYTES} bytes`);
}

function limitIssues(request: SandboxRunRequest, problem: (path: string, message: string) => void): void {
  const { timeoutMs, memoryMb, cpus, pids } = request.limits;
  if (!(Number.isFinite(timeoutMs) && timeoutMs > 0)) problem('limits.timeoutMs', 'must be > 0');
  if (!(Number.isInteger(memoryMb) && memoryMb >= MIN_MEMORY_MB)) {
    problem('limits.memoryMb', `must be an integer ≥ ${MIN_MEMORY_MB}`);
  }
  if (!(Number.isFinite(cpus) && cpus > 0)) problem('limits.cpus', 'must be > 0');
  if (!(Number.isInteger(pids) && pids > 0)) problem('limits.pids', 'must be an integer > 0');
  const { diskMb } = request.limits;
  if (diskMb !== undefined && !(Number.isInteger(diskMb) && diskMb >= MIN_DISK_MB)) {
    problem('limits.diskMb', `must be an integer ≥ ${MIN_DISK_MB}`);
  }
}

/** Parent directories of a relative path, outermost first: `a/b/c` → `a`, `a/b`. */
export function ancestors(path: string): string[] {
  const segments = path.split('/');
  return segments.slice(1).map((_, index) => segments.slice(0, index + 1).join('/'));
}

function isLabelValue(value: string): boolean {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  return !/[\u0000-\u001f\u007f]/.test(value);
}
