import { randomBytes } from 'node:crypto';
import { JOB_NAME, QUEUE_NAME } from '@sandfleet/contracts';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_IMAGE } from './support/agent-runtime-docker.js';
import { buildTestApp, type TestApp, testToken } from './support/test-api.js';
import { TestFleet, type TestWorker } from './support/test-fleet.js';

// A hostile step given secrets prints them in every encoding it can, splits one across
// stdout/stderr, writes it to the runtime's result file and chat reply; then everything the fleet
// stored or served is searched for any of those forms, as the attacker would read it back.

const b64 = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64');

/** What a leak looks like in each printed encoding: a part that only the secret's bytes make. */
function leakProbes(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret);
  const hex = bytes.toString('hex');
  const middle = (text: string) => text.slice(4, -4);
  const xml = secret.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  const half = Math.floor(secret.length / 2);
  return {
    literal: secret,
    base64: middle(b64(bytes)),
    base64Offset1: middle(b64(Buffer.concat([Buffer.from('x'), bytes]))),
    base64Offset2: middle(b64(Buffer.concat([Buffer.from('xy'), bytes]))),
    base64Url: middle(bytes.toString('base64url')),
    wrappedBase64FirstLine: middle(b64(bytes).slice(0, 76)),
    wrappedBase64SecondLine: b64(bytes).slice(76, -2),
    hex: middle(hex),
    hexUpper: middle(hex.toUpperCase()),
    percent: middle(hex.replace(/../g, '%$&')),
    uri: middle(encodeURIComponent(secret)),
    json: middle(JSON.stringify(secret)),
    xml: middle(xml),
    firstHalf: secret.slice(0, half),
    secondHalf: secret.slice(half),
  };
}

/** The probes of `secret` found in `text`, by name. */
function leaks(secret: string, text: string): string[] {
  return Object.entries(leakProbes(secret))
    .filter(([, probe]) => text.includes(probe))
    .map(([name]) => name);
}

// Every form the step prints, on stdout unless said; the secret's halves go to stdout then stderr,
// as written in that order (pipes keep no order between two streams: the pauses make the order in
// which the worker receives them the order they were written in).
const SCRIPT = String.raw`
S="$LONG_SECRET"
printf 'literal %s\n' "$S"
printf '%s' "$S" | base64 -w0; echo
printf 'x%s' "$S" | base64 -w0; echo
printf 'xy%s' "$S" | base64 -w0; echo
printf '%s' "$S" | base64 -w0 | tr '+/' '-_' | tr -d '='; echo
printf '%s' "$S" | base64
printf '%s' "$S" | od -An -tx1 -v | tr -d ' \n'; echo
printf '%s' "$S" | od -An -tx1 -v | tr -d ' \n' | tr 'a-f' 'A-F'; echo
printf '%s' "$S" | od -An -tx1 -v | tr -d '\n' | tr ' ' '%'; echo
jq -rn --arg s "$S" '$s|@uri'
jq -cn --arg s "$S" '{s:$s}'
printf '%s\n' "$S" | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g'
n=$(( ${'$'}{#S} / 2 ))
sleep 0.5
printf 'split %s' "${'$'}{S:0:$n}"
sleep 0.5
printf '%s tail\n' "${'$'}{S:$n}" >&2
sleep 0.5
printf 'short %s\n' "$SHORT_SECRET"
jq -n --arg s "$S" --arg t "$SHORT_SECRET" '{reply: ("reply " + $s + " " + $t), nested: {list: [$s, $t]}}' > "$SANDFLEET_RESULT_FILE"
`;

describe('redaction of secrets in every form, everywhere the fleet stores or serves', () => {
  let fleet: TestFleet;
  let worker: TestWorker;
  let app: TestApp;
  let bull: Queue;
  let token: string;
  const long = `sk-<&>${randomBytes(30).toString('hex')}`;
  const short = `k${randomBytes(1).toString('hex').slice(0, 1)}!`;
  const auth = () => ({ authorization: `Bearer ${token}` });

  beforeAll(async () => {
    fleet = await TestFleet.create();
    worker = await fleet.startWorker({}, { LONG_SECRET: long, SHORT_SECRET: short });
    token = testToken();
    app = await buildTestApp(fleet, { tokens: [token] });
    bull = new Queue(QUEUE_NAME, { prefix: fleet.prefix, connection: { url: fleet.redisUrl } });
  });

  afterAll(async () => {
    await bull?.close();
    await app?.close();
    await fleet?.close();
  });

  it('finds no form of either secret in the API, the replay stream, the row, the chat, the job or the worker logs', async () => {
    expect(short).toHaveLength(3);
    expect(b64(long).length).toBeGreaterThan(76);
    const session = `chat-${fleet.id}`;
    const created = await app.inject({
      method: 'POST',
      url: '/v1/steps',
      headers: auth(),
      payload: {
        agentId: fleet.agentId(),
        kind: 'chat',
        chatSessionId: session,
        input: 'hi',
        image: RUNTIME_IMAGE,
        secrets: ['LONG_SECRET', 'SHORT_SECRET'],
        command: { shell: 'bash', script: SCRIPT },
      },
    });
    expect(created.statusCode).toBe(202);
    const { id } = created.json<{ id: string }>();
    const row = await fleet.terminal(id, 180_000);
    expect(row.status).toBe('succeeded');
    // The step did print: its redacted output has the markers where the forms were.
    expect(row.output).toContain('literal ***');
    expect(row.output).toContain('short ***');
    expect(row.output).toContain('split ***');

    const step = await app.inject({ method: 'GET', url: `/v1/steps/${id}`, headers: auth() });
    const events = await app.inject({
      method: 'GET',
      url: `/v1/steps/${id}/events?since=0`,
      headers: auth(),
    });
    const chat = await app.inject({ method: 'GET', url: `/v1/chats/${session}/messages`, headers: auth() });
    const xrange = await fleet.redis.xrange(fleet.names.events(id), '-', '+');
    const job = await bull.getJob(id);
    const jobLogs = await bull.getJobLogs(id, 0, -1);
    const turns = await fleet.db.chats.list(session, { limit: 100 });
    expect(events.body).toContain('"finished"');
    expect(jobLogs.logs.length).toBeGreaterThan(1);
    const surfaces: Record<string, string> = {
      'GET step': step.body,
      'GET events': events.body,
      'GET chat messages': chat.body,
      XRANGE: JSON.stringify(xrange),
      'steps.output': row.output ?? '',
      'steps.result': JSON.stringify(row.result),
      'steps.spec and error': JSON.stringify({ spec: row.spec, error: row.error }),
      chat_messages: JSON.stringify(turns),
      'job data': JSON.stringify(job?.data),
      'job logs': JSON.stringify(jobLogs.logs),
      'worker logs': worker.logs.join(''),
    };
    expect(JSON.stringify(row.result)).toContain('reply ***');
    const found: Record<string, string[]> = {};
    for (const [where, text] of Object.entries(surfaces)) {
      const hits = [...leaks(long, text), ...(text.includes(short) ? ['short literal'] : [])];
      if (hits.length > 0) found[where] = hits;
    }
    expect(found).toEqual({});
  }, 240_000);

  it('rejects a workspace.repo with credentials at enqueue, naming secrets, and stores nothing', async () => {
    const password = `pw${randomBytes(6).toString('hex')}`;
    for (const repo of [`http://u:${password}@127.0.0.1/x.git`, `https://${password}@127.0.0.1/x.git`]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/steps',
        headers: auth(),
        payload: { agentId: fleet.agentId(), command: ['true'], workspace: { repo } },
      });
      expect(response.statusCode).toBe(400);
      const body = response.json<{ error: { code: string; issues: { path: string; message: string }[] } }>();
      expect(body.error.code).toBe('VALIDATION_FAILED');
      expect(body.error.issues).toContainEqual({
        path: 'workspace.repo',
        message: 'must not contain credentials; pass them as a secret (see docs/security.md)',
      });
      expect(response.body).not.toContain(password);
    }
  });

  it('records a raw job with a credential in workspace.repo as an error, without the password', async () => {
    const password = `pw${randomBytes(6).toString('hex')}`;
    const id = fleet.stepId();
    await bull.add(
      JOB_NAME,
      {
        agentId: fleet.agentId(),
        command: ['true'],
        workspace: { repo: `http://u:${password}@127.0.0.1/x.git` },
      },
      { jobId: id },
    );
    const row = await fleet.terminal(id, 60_000);
    expect(row.status).toBe('error');
    expect(row.errorCode).toBe('VALIDATION_FAILED');
    expect(row.error).toContain('workspace.repo');
    const stored = JSON.stringify({ spec: row.spec, error: row.error, output: row.output });
    expect(stored).not.toContain(password);
    const xrange = await fleet.redis.xrange(fleet.names.events(id), '-', '+');
    expect(JSON.stringify(xrange)).not.toContain(password);
    expect(worker.logs.join('')).not.toContain(password);
  });
});
