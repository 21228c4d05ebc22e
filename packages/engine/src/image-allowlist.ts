import { isImageAllowed } from '@sandfleet/config';
import { EngineError } from './errors.js';

/** Adds `:latest` to an image reference without a tag or digest, as Docker does. */
export function normalizeImage(image: string): string {
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  return lastSegment.includes(':') || image.includes('@') ? image : `${image}:latest`;
}

/**
 * Which images steps may name. Patterns are image references where `*` matches anything
 * (`sandfleet/step:*`); a reference without a tag means `:latest`.
 */
export class ImageAllowlist {
  readonly patterns: readonly string[];

  readonly #normalized: readonly string[];

  constructor(patterns: readonly string[]) {
    this.patterns = patterns;
    // `busybox` means `busybox:latest`, for patterns as for images; `sandfleet/step:*` stays as is.
    this.#normalized = patterns.map((pattern) => (pattern.includes('*') ? pattern : normalizeImage(pattern)));
  }

  isAllowed(image: string): boolean {
    return isImageAllowed(normalizeImage(image), this.#normalized);
  }

  /**
   * @param context - the step (its id) or the warm hint (its `agentId`) that names `image`.
   * @throws EngineError `IMAGE_NOT_ALLOWED`, final, before any container exists.
   */
  assertAllowed(image: string, context: string | { agentId: string }): void {
    if (this.isAllowed(image)) return;
    throw new EngineError(
      'IMAGE_NOT_ALLOWED',
      `image ${image} is not in this worker's allowlist (${this.patterns.join(', ')}); set SANDFLEET_IMAGE_ALLOWLIST to allow it`,
      { context: typeof context === 'string' ? { stepId: context } : context },
    );
  }
}
