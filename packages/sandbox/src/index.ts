export { createDockerSandbox } from './docker/docker-sandbox.js';
export {
  DEFAULT_AGENTS_NETWORK,
  DEFAULT_DOCKER_CALL_CONCURRENCY,
  DEFAULT_EGRESS_NETWORK,
  DEFAULT_EGRESS_PROXY_CONTAINER,
  DEFAULT_EGRESS_PROXY_IMAGE,
  DEFAULT_EGRESS_SUBNET_POOL,
  DEFAULT_HOME_VOLUME_PREFIX,
  DEFAULT_IMAGE_BUILD_HINT,
  DEFAULT_OUTPUT_DRAIN_IDLE_MS,
  DEFAULT_SHARED_VAULT_VOLUME,
  DEFAULT_SOCKET_PATH,
  type DockerSandboxOptions,
  type EgressOptions,
} from './docker/docker-sandbox-options.js';
export { type BuildImageOptions, type BuildImageResult, buildImage } from './docker/image-builder.js';
export { isSandboxError, SandboxError, type SandboxErrorCode, type SandboxErrorOptions } from './errors.js';
export { assertValidRunRequest, runRequestIssues } from './run-request.js';
export {
  AGENT_HOME,
  DEFAULT_STOP_GRACE_MS,
  INPUT_FILE_PATH,
  MAX_INPUT_ENV_BYTES,
  RUNTIME_DIR,
  RUNTIME_FILE_NAME,
  type Sandbox,
  type SandboxContainer,
  type SandboxEgressEntry,
  type SandboxFile,
  type SandboxLimits,
  type SandboxRunHooks,
  type SandboxRunRequest,
  type SandboxRunResult,
  type SandboxRuntimeFile,
  type SandboxSharedVault,
  type SandboxStopReason,
  type SandboxWarmMiss,
  type SandboxWarmOutcome,
  type SandboxWarmRequest,
  SHARED_VAULT_PATH,
} from './sandbox.js';
