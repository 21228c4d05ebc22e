// The engine image's HEALTHCHECK: probes what this container's `sandfleet` command serves.
//
//   api, up   GET /healthz on SANDFLEET_API_PORT (8080)                      200 = healthy
//   worker    GET /metrics on SANDFLEET_METRICS_PORT when it is on (> 0)     200 = healthy
//             (the endpoint is bound only after the worker reached PostgreSQL and Docker);
//             with metrics off: healthy while the worker process is there
//   other     (migrate, one-shot commands) healthy
//
// SANDFLEET_HEALTHCHECK_URL, when set, is probed instead. Exit 0 healthy, 1 unhealthy (Docker's
// HEALTHCHECK contract). No dependencies: Node's fetch only.
import { readdirSync, readFileSync } from 'node:fs';

const TIMEOUT_MS = 3000;
const MAIN = '/app/dist/main.js';
/** Global options of `sandfleet` that take a value (`sandfleet --api URL run …`). */
const OPTIONS_WITH_VALUE = new Set(['--api', '--token']);

/** The subcommand of the `node /app/dist/main.js …` process in this container, if any. */
function sandfleetCommand() {
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    let argv;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // the process ended meanwhile
    }
    const at = argv.indexOf(MAIN);
    if (at < 0 || !/(^|\/)node$/.test(argv[at - 1] ?? '')) continue;
    const args = argv.slice(at + 1).filter(Boolean);
    for (let i = 0; i < args.length; i++) {
      if (OPTIONS_WITH_VALUE.has(args[i])) i++;
      else if (!args[i].startsWith('-')) return args[i];
    }
    return '';
  }
  return undefined;
}

function localHost(host) {
  return !host || host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
}

async function probe(url) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await response.body?.cancel();
    if (response.ok) return true;
    console.error(`${url}: HTTP ${response.status}`);
  } catch (error) {
    console.error(`${url}: ${error.cause?.code ?? error.name}`);
  }
  return false;
}

function targetUrl(env) {
  if (env.SANDFLEET_HEALTHCHECK_URL) return env.SANDFLEET_HEALTHCHECK_URL;
  const command = sandfleetCommand();
  if (command === undefined) {
    console.error(`no ${MAIN} process in this container`);
    return null;
  }
  if (command === 'api' || command === 'up') {
    return `http://${localHost(env.SANDFLEET_API_HOST)}:${env.SANDFLEET_API_PORT || 8080}/healthz`;
  }
  if (command === 'worker') {
    const port = Number(env.SANDFLEET_METRICS_PORT || 0);
    return port > 0 ? `http://127.0.0.1:${port}/metrics` : undefined;
  }
  return undefined;
}

const url = targetUrl(process.env);
process.exitCode = url === null ? 1 : url === undefined || (await probe(url)) ? 0 : 1;
