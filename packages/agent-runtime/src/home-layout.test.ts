import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureHomeLayout, homeLayout, taskWorkspacePath } from './home-layout.js';

let home: string | undefined;
afterEach(async () => {
  if (home !== undefined) await rm(home, { recursive: true, force: true });
});

describe('the home layout', () => {
  it('is the design layout under the home, with the personal vault of the agent', () => {
    const layout = homeLayout({ home: '/home/agent', agentId: 'alice' });
    expect(layout).toEqual({
      home: '/home/agent',
      vault: '/home/agent/vault/alice',
      sharedVault: '/home/agent/vault/shared',
      runWorkspace: '/home/agent/run-workspace',
      projectWorkspace: '/home/agent/project-workspace',
      taskWorkspaces: '/home/agent/task-workspaces',
    });
    expect(taskWorkspacePath(layout, 'T1')).toBe('/home/agent/task-workspaces/T1');
  });

  it('is created where missing and left as it is where present', async () => {
    home = await mkdtemp(join(tmpdir(), 'sandfleet-home-'));
    const layout = homeLayout({ home, agentId: 'alice' });
    await ensureHomeLayout(layout);
    const before = await stat(layout.sharedVault);
    await ensureHomeLayout(layout);
    expect((await stat(layout.sharedVault)).mode).toBe(before.mode);
    expect((await readdir(home)).sort()).toEqual([
      'project-workspace',
      'run-workspace',
      'task-workspaces',
      'vault',
    ]);
    expect((await readdir(join(home, 'vault'))).sort()).toEqual(['alice', 'shared']);
  });
});
