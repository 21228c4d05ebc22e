/** Numeric owner given to injected files and directories. */
export interface ImageOwner {
  uid: number;
  gid: number;
}

/** uid/gid assumed for a named non-root image user (the agent image's `agent` user). */
export const DEFAULT_AGENT_UID = 1000;

/**
 * Owner of injected files for an image's configured `User` (`name`, `uid`, `name:group`,
 * `uid:gid`). Numeric ids are used as given; `root` or no user is 0; other names are assumed to be
 * {@link DEFAULT_AGENT_UID}, which avoids reading the image's `/etc/passwd` on every run.
 */
export function imageOwner(user: string | undefined): ImageOwner {
  const [userPart = '', groupPart] = (user ?? '').split(':', 2);
  const uid = idOf(userPart);
  const gid = groupPart === undefined || groupPart === '' ? uid : idOf(groupPart);
  return { uid, gid };
}

function idOf(name: string): number {
  if (name === '' || name === 'root') return 0;
  if (/^\d+$/.test(name)) return Number(name);
  return DEFAULT_AGENT_UID;
}
