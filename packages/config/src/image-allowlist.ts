/** Image allowlist entries: an image reference in which `*` stands for any run of characters. */
export const IMAGE_GLOB_PATTERN = /^[A-Za-z0-9*][A-Za-z0-9._/:@*-]*$/;

/** Images a worker runs unless `SANDFLEET_IMAGE_ALLOWLIST` says otherwise. */
export const DEFAULT_IMAGE_ALLOWLIST: readonly string[] = [
  'sandfleet/step:*',
  'sandfleet/agent-runtime:*',
  'sandfleet/test-busybox:*',
];

function globRegExp(glob: string): RegExp {
  const source = glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

/**
 * Whether `image` matches one of the allowlist's patterns. Matching is on the reference exactly
 * as written, over the whole string: `sandfleet/step:*` allows `sandfleet/step:1.2` but not
 * `sandfleet/step` (no tag) nor `evil.io/sandfleet/step:1`, and `*` also matches `/` and `:`.
 */
export function isImageAllowed(image: string, allowlist: readonly string[]): boolean {
  return allowlist.some((glob) => globRegExp(glob).test(image));
}
