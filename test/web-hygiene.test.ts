import { createHash } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cliEnvFrom, runCli } from './support/cli-process.js';
import { spawnCliInTerminal } from './support/cli-terminal.js';
import { memoryLogger, type RunningApi, startTestApi, testToken } from './support/test-api.js';
import { TestFleet } from './support/test-fleet.js';

interface ErrorBody {
  error: { code: string; message: string };
}

const EVIL = 'https://evil.example';
// What a hostile step prints: a clipboard write (OSC 52), a window title, a screen clear, a colour.
const HOSTILE_SCRIPT =
  "printf 'before \\033]52;c;%s\\007 after\\n' aGFja2Vk; printf '\\033]0;pwned\\007\\033[2J'; printf '\\033[31mred\\033[0m\\n'";
const OSC52 = '\x1b]52;c;aGFja2Vk\x07';
const OSC52_SHOWN = '\\x1b]52;c;aGFja2Vk\\x07';
const SHOWN = `before ${OSC52_SHOWN} after\n\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\x1b[0m\n`;

/** The `name=value` of a Set-Cookie line, and its attributes lower-cased. */
function parseSetCookie(line: string): { name: string; value: string; attributes: string[] } {
  const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
  const at = pair.indexOf('=');
  return {
    name: pair.slice(0, at),
    value: pair.slice(at + 1),
    attributes: attributes.map((a) => a.toLowerCase()),
  };
}

describe('web hygiene: CSRF, sign-in limit, proxies, sessions, terminal escapes', () => {
  let fleet: TestFleet;
  let token: string;
  let api: RunningApi;
  let proxied: RunningApi;
  let logLines: string[];

  const signIn = async (target: RunningApi, headers: Record<string, string> = {}) => {
    const response = await fetch(`${target.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams({ token, next: '/docs' }).toString(),
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    const [line] = response.headers.getSetCookie();
    return parseSetCookie(line ?? '');
  };
  const bearer = () => ({ authorization: `Bearer ${token}`, 'content-type': 'application/json' });
  const enqueue = async (spec: Record<string, unknown>) => {
    const response = await fetch(`${api.url}/v1/steps`, {
      method: 'POST',
      headers: bearer(),
      body: JSON.stringify({ agentId: fleet.agentId(), ...spec }),
    });
    expect(response.status).toBe(202);
    return ((await response.json()) as { id: string }).id;
  };
  const cancelByCookie = (target: RunningApi, id: string, session: string, headers: Record<string, string>) =>
    fetch(`${target.url}/v1/steps/${id}/cancel`, {
      method: 'POST',
      headers: { cookie: `sandfleet_session=${session}`, ...headers },
    });

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '4' });
    token = testToken();
    const memory = memoryLogger();
    logLines = memory.lines;
    api = await startTestApi(fleet, { SANDFLEET_API_TOKENS: token }, memory.logger);
    proxied = await startTestApi(fleet, {
      SANDFLEET_API_TOKENS: token,
      SANDFLEET_API_TRUST_PROXY: '127.0.0.1',
    });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await proxied?.close();
    await api?.close();
    await fleet?.close();
  });

  it('refuses a cross-site cancel made with the session cookie (403 FORBIDDEN), and the step runs on', async () => {
    const id = await enqueue({ command: ['sleep', '60'] });
    await fleet.until('the step to run', async () => (await fleet.db.steps.get(id))?.status === 'running');
    const { value: session } = await signIn(api);

    // A form or fetch from another site: the browser attaches the cookie and its own Origin.
    for (const headers of <Record<string, string>[]>[
      { origin: EVIL },
      { origin: EVIL, 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'null' },
      {},
    ]) {
      const refused = await cancelByCookie(api, id, session, headers);
      expect(refused.status, JSON.stringify(headers)).toBe(403);
      expect(((await refused.json()) as ErrorBody).error.code).toBe('FORBIDDEN');
    }
    const foreign = await cancelByCookie(api, id, session, { origin: EVIL });
    expect(((await foreign.json()) as ErrorBody).error.message).toContain(`Origin ${EVIL}`);
    // What the attacker got: nothing recorded, nothing stopped.
    const row = await fleet.db.steps.get(id);
    expect(row).toMatchObject({ status: 'running', cancelRequestedAt: null });
    expect((await fleet.replay(id)).some((event) => event.type === 'finished')).toBe(false);

    // The API's own page (same Origin), or a client's header, is let through.
    const own = await cancelByCookie(api, id, session, { origin: api.url, 'sec-fetch-site': 'same-origin' });
    expect(own.status).toBe(202);
    expect((await fleet.terminal(id)).status).toBe('cancelled');
    const other = await enqueue({ command: ['true'] });
    await fleet.terminal(other);
    expect((await cancelByCookie(api, other, session, { 'x-sandfleet-request': '1' })).status).toBe(202);
    // Bearer requests are not affected by where they claim to come from.
    const byToken = await fetch(`${api.url}/v1/steps/${other}/cancel`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, origin: EVIL },
    });
    expect(byToken.status).toBe(202);
  });

  it('refuses a sign-in posted from another site (login CSRF) without setting a cookie', async () => {
    const response = await fetch(`${api.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: EVIL },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });
    expect(response.status).toBe(403);
    expect(response.headers.getSetCookie()).toEqual([]);
  });

  it('puts a random session id in the cookie, never the token nor anything derived from it, and ends it on logout', async () => {
    const first = await signIn(api);
    const second = await signIn(api);
    expect(first.name).toBe('sandfleet_session');
    expect(first.attributes).toEqual(
      expect.arrayContaining(['httponly', 'samesite=strict', 'path=/', 'max-age=43200']),
    );
    // Two sign-ins with one token: two unrelated values, so the value is not a function of the token.
    expect(second.value).not.toBe(first.value);
    const digests = ['hex', 'base64', 'base64url'].map((encoding) =>
      createHash('sha256')
        .update(token)
        .digest(encoding as 'hex'),
    );
    for (const { value } of [first, second]) {
      const decoded = decodeURIComponent(value);
      expect(decoded).not.toContain(token);
      for (const digest of digests) expect(decoded).not.toContain(digest);
      expect(Buffer.from(decoded, 'base64url').toString('latin1')).not.toContain(token);
    }
    // The token itself no longer works as a cookie.
    const asCookie = await fetch(`${api.url}/v1/steps?limit=1`, {
      headers: { cookie: `sandfleet_session=${token}` },
    });
    expect(asCookie.status).toBe(401);

    const read = (session: string) =>
      fetch(`${api.url}/v1/steps?limit=1`, { headers: { cookie: `sandfleet_session=${session}` } });
    expect((await read(first.value)).status).toBe(200);
    const logout = await fetch(`${api.url}/logout`, {
      method: 'POST',
      headers: { cookie: `sandfleet_session=${first.value}`, origin: api.url },
      redirect: 'manual',
    });
    expect(logout.status).toBe(303);
    // A copy of the cookie kept by an attacker is worth nothing after logout; other sessions live.
    expect((await read(first.value)).status).toBe(401);
    expect((await read(second.value)).status).toBe(200);
    expect(logLines.join('')).not.toContain(token);
    expect(logLines.join('')).not.toContain(first.value);
  });

  it('marks the cookie Secure behind a trusted TLS proxy, and only there', async () => {
    const https = { 'x-forwarded-proto': 'https' };
    expect((await signIn(proxied, https)).attributes).toContain('secure');
    expect((await signIn(proxied)).attributes).not.toContain('secure');
    // Without SANDFLEET_API_TRUST_PROXY the header is anyone's to send, and is ignored.
    expect((await signIn(api, https)).attributes).not.toContain('secure');

    // The proxy's public origin matches through X-Forwarded-Host on the proxied API only.
    const { value: session } = await signIn(proxied, https);
    const behindProxy = {
      origin: 'https://sandfleet.example',
      'x-forwarded-host': 'sandfleet.example',
      'x-forwarded-proto': 'https',
    };
    const missing = fleet.stepId();
    const accepted = await cancelByCookie(proxied, missing, session, behindProxy);
    expect(((await accepted.json()) as ErrorBody).error.code).toBe('STEP_NOT_FOUND');
    const { value: direct } = await signIn(api);
    expect((await cancelByCookie(api, missing, direct, behindProxy)).status).toBe(403);
  });

  it('limits failed sign-ins by the real client IP behind a trusted proxy', async () => {
    const attempt = (ip: string, value = testToken()) =>
      fetch(`${proxied.url}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
        body: JSON.stringify({ token: value }),
        redirect: 'manual',
      });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i += 1) statuses.push((await attempt('203.0.113.9')).status);
    expect(statuses).toEqual([...Array(10).fill(401), 429, 429]);
    // Another client behind the same proxy is not limited by the first one's failures.
    expect((await attempt('198.51.100.4')).status).toBe(401);
    expect((await attempt('198.51.100.4', token)).status).toBe(303);
  });

  it('shows a step’s terminal escapes escaped in `sandfleet run` and `sandfleet logs`, raw with --raw', async () => {
    const env = {
      ...cliEnvFrom(fleet.workerEnv()),
      SANDFLEET_AGENT_ID: fleet.agentId(),
      // Nothing listens there: the CLI goes through the API.
      SANDFLEET_REDIS_URL: 'redis://127.0.0.1:9',
      SANDFLEET_DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:9/nothing',
      SANDFLEET_API_URL: api.url,
      SANDFLEET_API_TOKEN: token,
    };
    const id = fleet.stepId();
    const run = await runCli(['run', '--id', id, '--script', HOSTILE_SCRIPT], { env });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(SHOWN);
    expect(await fleet.db.steps.get(id)).toMatchObject({ status: 'succeeded' });

    for (const args of [
      ['logs', id],
      ['logs', '-f', id],
      ['logs', id, '--since', '0'],
    ]) {
      const logs = await runCli(args, { env });
      expect(logs.code, args.join(' ')).toBe(0);
      expect(logs.stdout, args.join(' ')).toBe(SHOWN);
      expect(logs.stdout).not.toContain('\x1b');
    }
    const raw = await runCli(['logs', '--raw', id], { env });
    expect(raw.stdout).toContain(OSC52);
    expect(raw.stdout).toContain('\x1b[2J');

    // On a terminal, colours pass and everything else stays escaped.
    // Awaited here; the helper kills it if it hangs.
    const shown = await spawnCliInTerminal(['logs', id], { env }).exited;
    expect(shown.stdout).toContain(OSC52_SHOWN);
    expect(shown.stdout).toContain('\x1b[31mred\x1b[0m');
    expect(shown.stdout).not.toContain(OSC52);
    expect(shown.stdout).not.toContain('\x1b]0;');
    expect(shown.stdout).not.toContain('\x1b[2J');
  });

  it('answers 429 RATE_LIMITED with Retry-After to 200 wrong sign-ins in 5 s, even for the right token then', async () => {
    const started = Date.now();
    const responses: Response[] = [];
    for (let batch = 0; batch < 10; batch += 1) {
      responses.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, () =>
            fetch(`${api.url}/login`, {
              method: 'POST',
              // Spoofed client addresses: ignored without SANDFLEET_API_TRUST_PROXY.
              headers: { 'content-type': 'application/json', 'x-forwarded-for': `192.0.2.${batch}` },
              body: JSON.stringify({ token: testToken() }),
              redirect: 'manual',
            }),
          ),
        )),
      );
    }
    expect(Date.now() - started).toBeLessThan(5000);
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(190);
    const limited = responses.find((response) => response.status === 429) as Response;
    expect(((await limited.json()) as ErrorBody).error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);

    // No answer about any token while limited: the right one is refused too, and the form says so.
    const right = await fetch(`${api.url}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token }).toString(),
      redirect: 'manual',
    });
    expect(right.status).toBe(429);
    expect(right.headers.getSetCookie()).toEqual([]);
    expect(right.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await right.text()).toContain('Too many failed attempts');
    // Bearer requests are not sign-ins.
    expect((await fetch(`${api.url}/v1/steps?limit=1`, { headers: bearer() })).status).toBe(200);
  });
});
