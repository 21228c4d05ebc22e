import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestFleet } from './support/test-fleet.js';

/**
 * The parts of the boundary every step container has, probed from inside by a hostile step (the
 * assertions are on what the step itself could see and do, read back from its recorded output).
 */
describe('containment: what a hostile step gets in any container', () => {
  let fleet: TestFleet;

  beforeAll(async () => {
    fleet = await TestFleet.create();
    await fleet.startWorker({ SANDFLEET_WORKER_CONCURRENCY: '2' });
  });

  afterEach(async () => {
    expect(await fleet.leftovers()).toEqual([]);
  });

  afterAll(async () => {
    await fleet?.close();
  });

  /** Runs a script as a step of a fresh agent and returns its recorded output. */
  async function probe(script: string): Promise<string> {
    const id = fleet.stepId();
    await fleet.queue.enqueue({ id, agentId: fleet.agentId(), command: ['sh', '-c', script] });
    const row = await fleet.terminal(id);
    expect(row.status, row.output).toBe('succeeded');
    return row.output;
  }

  /** `key=value` lines of a probe's output. */
  function facts(output: string): Record<string, string> {
    return Object.fromEntries(
      output
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
  }

  it('runs as a non-root user with no capabilities, no-new-privileges and seccomp filtering', async () => {
    const got = facts(
      await probe(`
        echo uid=$(id -u)
        echo gid=$(id -g)
        for f in CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do
          echo "$f=$(sed -n "s/^$f:[[:space:]]*//p" /proc/self/status)"
        done`),
    );
    expect(got).toMatchObject({
      uid: '1000',
      gid: '1000',
      CapInh: '0000000000000000',
      CapPrm: '0000000000000000',
      CapEff: '0000000000000000',
      CapBnd: '0000000000000000',
      CapAmb: '0000000000000000',
      NoNewPrivs: '1',
      Seccomp: '2',
    });
  });

  it('finds no Docker socket or any other socket of the host, and no host path mounted', async () => {
    const output = await probe(`
      for s in /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock; do
        [ -e "$s" ] && echo "found=$s"
      done
      find / -xdev -type s 2>/dev/null | sed 's/^/socket=/'
      awk '{print "mount=" $2 " " $3 " " $4}' /proc/mounts`);
    expect(output).not.toMatch(/^found=/m);
    expect(output).not.toMatch(/^socket=/m);
    const mounts = output
      .split('\n')
      .filter((line) => line.startsWith('mount='))
      .map((line) => line.slice('mount='.length));
    // The engine's own: the container's root (read-only) and kernel file systems, its hosts
    // files, the home and vault volumes, the runtime's /sandfleet volume, size-limited scratch
    // tmpfs, and Docker's init binary, read-only.
    expect(mounts).toContainEqual(expect.stringMatching(/^\/ overlay ro,/));
    const allowed = /^\/(?:\s|proc|sys|dev|home\/agent|sandfleet\s|etc\/(?:hosts|hostname|resolv\.conf)\s)/;
    const scratch = /^\/(?:tmp|var\/tmp|run) tmpfs rw,nosuid,nodev,\S*size=\d+k/;
    const initBinary = /^\/sbin\/docker-init \S+ ro,/;
    expect(mounts.filter((mount) => ![allowed, scratch, initBinary].some((re) => re.test(mount)))).toEqual(
      [],
    );
  });

  it('cannot escalate: mount, chroot, a new user namespace, kernel knobs and raw devices all fail', async () => {
    const got = facts(
      await probe(`
        mkdir -p /tmp/m
        mount -t tmpfs none /tmp/m 2>/dev/null; echo mount=$?
        chroot / true 2>/dev/null; echo chroot=$?
        unshare -U -r true 2>/dev/null; echo userns=$?
        (echo 1 > /proc/sys/kernel/sysrq) 2>/dev/null; echo sysctl=$?
        (echo b > /proc/sysrq-trigger) 2>/dev/null; echo sysrq=$?
        (head -c 1 /dev/mem > /dev/null) 2>/dev/null; echo devmem=$?
        (head -c 1 /dev/kmsg > /dev/null) 2>/dev/null; echo kmsg=$?
        mknod /tmp/m/sda b 8 0 2>/dev/null; echo mknod=$?
        ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; echo rawsocket=$?`),
    );
    const attempts = ['mount', 'chroot', 'userns', 'sysctl', 'sysrq', 'devmem', 'kmsg', 'mknod', 'rawsocket'];
    for (const attempt of attempts) expect(got[attempt], attempt).not.toBe('0');
  });

  it('sees only its own processes, and no other step', async () => {
    const output = await probe('ps -o pid,user | tail -n +2');
    const processes = output
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    // The init process, the probe's shell, ps and tail: nothing of the host or of other steps.
    expect(processes.length).toBeLessThanOrEqual(5);
    expect(processes.map(([pid]) => pid)).toContain('1');
    for (const [, user] of processes) expect(user).toBe('agent');
  });
});
