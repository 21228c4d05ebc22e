import { readdirSync } from 'node:fs';
import { isApiError, SandfleetClient } from '@sandfleet/client';
import {
  CliConfig,
  ConfigError,
  DEFAULT_DATABASE_URL,
  type Env,
  loadEnv,
  parseConfig,
  printableConfig,
  WorkerConfig,
} from '@sandfleet/config';
import { createDatabase } from '@sandfleet/db';
import { createRedisConnection, DURABLE_REDIS_SETTINGS, redisDurability } from '@sandfleet/queue';
import { createDockerSandbox } from '@sandfleet/sandbox';
import { type ApiOptions, apiTarget } from '../cli-context.js';

/** Node major version Sandfleet runs on. */
export const MIN_NODE_MAJOR = 22;
/** The agent image with the minimal toolbox (`infra/images/build-images.sh` builds it). */
export const AGENT_RUNTIME_MINIMAL_IMAGE = 'sandfleet/agent-runtime:minimal';
/** Longest any one check waits for its system, ms. */
export const CHECK_TIMEOUT_MS = 5000;

const BUILD_IMAGES = 'bash infra/images/build-images.sh';

/** How one check went; `skip` when what it needs failed or is not configured. */
export type CheckStatus = 'ok' | 'fail' | 'skip';

/** One line of `sandfleet doctor`. */
export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** For a failure: what to run or change. */
  fix?: string;
}

/** Options of {@link runDoctorChecks}. */
export interface DoctorOptions {
  env: Env;
  /** The global `--api`/`--token` options. */
  api?: ApiOptions;
  /** @defaultValue {@link CHECK_TIMEOUT_MS} */
  timeoutMs?: number;
}

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'ok', detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({
  name,
  status: 'fail',
  detail,
  fix,
});
const skip = (name: string, detail: string): CheckResult => ({ name, status: 'skip', detail });

/**
 * Checks what Sandfleet needs on this machine, each with the fix for a failure: Node, the
 * configuration, the Docker engine, Redis, PostgreSQL, pending migrations, the default and the
 * agent-runtime images, and the API when one is configured. Never throws; connections it opens
 * are closed before it returns.
 */
export async function runDoctorChecks(options: DoctorOptions): Promise<CheckResult[]> {
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  const results: CheckResult[] = [checkNode()];
  const env = loadEnv({ env: options.env });
  const cli = tryParse(() => parseConfig(CliConfig, env) as CliConfig);
  const worker = tryParse(() => parseConfig(WorkerConfig, env) as WorkerConfig);
  const problems = [cli, worker].flatMap((parsed) => ('problems' in parsed ? parsed.problems : []));
  results.push(
    problems.length === 0
      ? ok('configuration', 'environment and .env are valid')
      : fail(
          'configuration',
          [...new Set(problems)].join('; '),
          'correct the variables named (in the environment or .env); see packages/config/README.md',
        ),
  );
  const cliConfig = 'config' in cli ? cli.config : undefined;
  const workerConfig = 'config' in worker ? worker.config : undefined;
  const [docker, store, api] = await Promise.all([
    workerConfig
      ? checkDocker(workerConfig, timeoutMs)
      : [skip('docker', 'configuration invalid'), skip('default image', ''), skip('agent-runtime image', '')],
    cliConfig
      ? checkStores(cliConfig, timeoutMs)
      : [skip('redis', 'configuration invalid'), skip('postgres', ''), skip('migrations', '')],
    cliConfig ? checkApi(cliConfig, options.api, timeoutMs) : skip('api', 'configuration invalid'),
  ]);
  const [engine, ...images] = docker;
  if (engine) results.push(engine);
  results.push(...store, ...images, api);
  return results;
}

function tryParse<T>(parse: () => T): { config: T } | { problems: string[] } {
  try {
    return { config: parse() };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: [...error.problems] };
    return { problems: [error instanceof Error ? error.message : String(error)] };
  }
}

function checkNode(): CheckResult {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= MIN_NODE_MAJOR
    ? ok('node', `v${process.versions.node}`)
    : fail(
        'node',
        `v${process.versions.node} is older than ${MIN_NODE_MAJOR}`,
        `install Node ${MIN_NODE_MAJOR}: bash infra/setup.sh (it installs node@${MIN_NODE_MAJOR} from the npm registry)`,
      );
}

async function checkDocker(config: WorkerConfig, timeoutMs: number): Promise<CheckResult[]> {
  const socket = config.dockerSocket;
  const sandbox = createDockerSandbox({ socketPath: socket });
  try {
    let engine: string;
    try {
      const { version, apiVersion } = await withTimeout(sandbox.ping(), timeoutMs);
      engine = `engine ${version} (API ${apiVersion}) at ${socket}`;
    } catch (error) {
      return [
        fail(
          'docker',
          `Docker engine not reachable at ${socket}: ${reason(error)}`,
          'start the Docker engine: bash infra/setup.sh, or `dockerd &` (no systemd) / `systemctl start docker`; ' +
            'or set SANDFLEET_DOCKER_SOCKET to the socket it listens on',
        ),
        skip('default image', 'Docker engine not reachable'),
        skip('agent-runtime image', 'Docker engine not reachable'),
      ];
    }
    const image = async (name: string, ref: string): Promise<CheckResult> => {
      try {
        return (await withTimeout(sandbox.imageExists(ref), timeoutMs))
          ? ok(name, `${ref} present`)
          : fail(name, `${ref} missing`, `build the local images: ${BUILD_IMAGES}`);
      } catch (error) {
        return fail(
          name,
          `cannot inspect ${ref}: ${reason(error)}`,
          `build the local images: ${BUILD_IMAGES}`,
        );
      }
    };
    return [
      ok('docker', engine),
      await image('default image', config.defaultImage),
      await image('agent-runtime image', AGENT_RUNTIME_MINIMAL_IMAGE),
    ];
  } finally {
    await sandbox.close();
  }
}

async function checkStores(config: CliConfig, timeoutMs: number): Promise<CheckResult[]> {
  const shown = printableConfig(config) as { redisUrl: string; databaseUrl: string };
  const redis = createRedisConnection({ url: config.redisUrl, role: 'producer', name: 'sandfleet-doctor' });
  // Reported by the check (the command's own error only says it gave up); ioredis would otherwise
  // print every reconnection error.
  let connectionError: unknown;
  redis.on('error', (error) => {
    connectionError = error;
  });
  const db = createDatabase({
    connectionString: config.databaseUrl,
    schema: config.databaseSchema,
    maxConnections: 1,
    connectionTimeoutMs: timeoutMs,
  });
  try {
    const redisCheck = withTimeout(redis.ping(), timeoutMs).then(
      async () => [ok('redis', `${shown.redisUrl} answers`), await durabilityCheck(redis, timeoutMs)],
      (error: unknown) => [
        fail(
          'redis',
          `not reachable at ${shown.redisUrl}: ${reason(connectionError ?? error)}`,
          `start Redis: ${DURABLE_REDIS_START} (or bash infra/setup.sh), or set SANDFLEET_REDIS_URL`,
        ),
        skip('redis durability', 'Redis not reachable'),
      ],
    );
    const postgresChecks = (async (): Promise<CheckResult[]> => {
      try {
        await withTimeout(db.ping(), timeoutMs);
      } catch (error) {
        return [
          fail(
            'postgres',
            `not reachable at ${shown.databaseUrl}: ${reason(error)}`,
            postgresFix(config.databaseUrl),
          ),
          skip('migrations', 'PostgreSQL not reachable'),
        ];
      }
      const reached = ok('postgres', `${shown.databaseUrl} answers`);
      try {
        const pending = await withTimeout(db.pendingMigrations(), timeoutMs);
        return [
          reached,
          pending.length === 0
            ? ok('migrations', `schema ${config.databaseSchema} is at the latest migration`)
            : fail(
                'migrations',
                `${pending.length} pending in schema ${config.databaseSchema}: ${pending.join(', ')}`,
                'sandfleet migrate',
              ),
        ];
      } catch (error) {
        return [reached, fail('migrations', `cannot read them: ${reason(error)}`, 'sandfleet migrate')];
      }
    })();
    return [...(await redisCheck), ...(await postgresChecks)];
  } finally {
    redis.disconnect();
    await db.close();
  }
}

const DURABLE_REDIS_FLAGS = Object.entries(DURABLE_REDIS_SETTINGS)
  .map(([name, value]) => `--${name} ${value}`)
  .join(' ');
/** How set-up starts Redis: persistent (append-only file, fsync every second) and never evicting. */
const DURABLE_REDIS_START = `redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --dir /var/lib/redis ${DURABLE_REDIS_FLAGS}`;

/** Fails when Redis may lose accepted steps (no append-only file, or eviction on). */
async function durabilityCheck(
  redis: ReturnType<typeof createRedisConnection>,
  timeoutMs: number,
): Promise<CheckResult> {
  try {
    const durability = await withTimeout(redisDurability(redis), timeoutMs);
    if (durability.problems.length === 0) {
      const fsync = durability.appendFsync ? `, appendfsync ${durability.appendFsync}` : '';
      return ok('redis durability', `append-only file on${fsync}, maxmemory-policy noeviction`);
    }
    const set = Object.entries(DURABLE_REDIS_SETTINGS)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ');
    return fail(
      'redis durability',
      durability.problems.join('; '),
      `bash infra/setup.sh provisions it; by hand: redis-cli CONFIG SET for ${set}, then CONFIG REWRITE, or start it as ${DURABLE_REDIS_START}`,
    );
  } catch (error) {
    return fail(
      'redis durability',
      `cannot read INFO: ${reason(error)}`,
      'allow INFO for the Sandfleet user',
    );
  }
}

/** How to start PostgreSQL and create the role and database `infra/setup.sh` creates. */
function postgresFix(databaseUrl: string): string {
  let user = 'sandfleet';
  let database = 'sandfleet';
  try {
    const url = new URL(databaseUrl);
    user = decodeURIComponent(url.username) || user;
    database = decodeURIComponent(url.pathname.slice(1)) || database;
  } catch {
    // The config already validated it; keep the defaults.
  }
  const password = databaseUrl === DEFAULT_DATABASE_URL ? 'sandfleet' : '<password>';
  return (
    `start PostgreSQL: pg_ctlcluster ${postgresVersion()} main start; ` +
    `create the role and database: runuser -u postgres -- psql -c "create role \\"${user}\\" login password '${password}'" ` +
    `-c "create database \\"${database}\\" owner \\"${user}\\"" (or bash infra/setup.sh), or set SANDFLEET_DATABASE_URL`
  );
}

/** The newest installed PostgreSQL cluster version (Debian layout), for the fix. */
function postgresVersion(): string {
  try {
    const versions = readdirSync('/etc/postgresql').filter((name) => /^\d+$/.test(name));
    return versions.sort((a, b) => Number(b) - Number(a))[0] ?? '<version>';
  } catch {
    return '<version>';
  }
}

async function checkApi(
  config: CliConfig,
  options: ApiOptions | undefined,
  timeoutMs: number,
): Promise<CheckResult> {
  const target = apiTarget(config, options);
  if (!target)
    return skip('api', 'SANDFLEET_API_URL not set: the CLI talks to Redis and PostgreSQL directly');
  const client = new SandfleetClient({
    baseUrl: target.url,
    token: target.token,
    requestTimeoutMs: timeoutMs,
  });
  try {
    const readiness = await client.ready();
    await client.listSteps({ limit: 1 });
    return ok(
      'api',
      `${target.url} ready (redis ${readiness.checks.redis}, postgres ${readiness.checks.postgres}), token accepted`,
    );
  } catch (error) {
    if (isApiError(error, 'UNAUTHORIZED')) {
      return fail(
        'api',
        `${target.url} refused the token`,
        "set SANDFLEET_API_TOKEN (or --token) to one of the API's SANDFLEET_API_TOKENS",
      );
    }
    if (isApiError(error, 'NOT_READY')) {
      return fail(
        'api',
        `${target.url} is up but not ready: ${error.message}`,
        'the API cannot reach Redis or PostgreSQL: start them (see their fixes) with the same SANDFLEET_* settings',
      );
    }
    return fail(
      'api',
      `not reachable at ${target.url}: ${reason(error)}`,
      'start it: sandfleet up (API and worker) or sandfleet api; or set SANDFLEET_API_URL (or --api) to where it listens',
    );
  }
}

/** The innermost cause's message (`connect ENOENT /var/run/docker.sock`), without the wrappers'. */
function reason(error: unknown): string {
  let inner = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  return inner instanceof Error ? inner.message : String(inner);
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
