import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** The agent home layout of docs/design.md, as absolute paths. */
export interface HomeLayout {
  home: string;
  /** `vault/{agentId}`: the agent's personal memory vault (absent without an agent id). */
  vault?: string;
  /** `vault/shared`: the team's shared vault, mounted by the worker. */
  sharedVault: string;
  /** `run-workspace`: git worktree of the run's branch (pipeline steps). */
  runWorkspace: string;
  /** `project-workspace`: full clone of the project repository (pipeline steps). */
  projectWorkspace: string;
  /** `task-workspaces`: one clone per task id (task and pulse steps). */
  taskWorkspaces: string;
}

export interface HomeLayoutOptions {
  home: string;
  agentId?: string;
}

/** The layout's paths under `home`; ids were validated as path segments by `parseRuntimeEnv`. */
export function homeLayout(options: HomeLayoutOptions): HomeLayout {
  const { home, agentId } = options;
  return {
    home,
    ...(agentId === undefined ? {} : { vault: join(home, 'vault', agentId) }),
    sharedVault: join(home, 'vault', 'shared'),
    runWorkspace: join(home, 'run-workspace'),
    projectWorkspace: join(home, 'project-workspace'),
    taskWorkspaces: join(home, 'task-workspaces'),
  };
}

/**
 * Creates whatever of the layout is missing (`mkdir -p`). Existing directories are left as they
 * are: `vault/shared` is a mount, whose mode and owner are the operator's.
 */
export async function ensureHomeLayout(layout: HomeLayout): Promise<void> {
  const dirs = [
    layout.vault,
    layout.sharedVault,
    layout.runWorkspace,
    layout.projectWorkspace,
    layout.taskWorkspaces,
  ];
  for (const dir of dirs) if (dir !== undefined) await mkdir(dir, { recursive: true });
}

/** `task-workspaces/{taskId}`. */
export function taskWorkspacePath(layout: HomeLayout, taskId: string): string {
  return join(layout.taskWorkspaces, taskId);
}
