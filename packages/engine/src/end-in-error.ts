import type { StepRepository } from '@sandfleet/db';
import type { OpenPublisher } from './step-runner.js';

export interface EndInErrorDeps {
  steps: Pick<StepRepository, 'markFinished'>;
  openPublisher: OpenPublisher;
}

/**
 * Ends a step that is not running here in `error` (its job failed in the queue, or was lost):
 * records the row, and only when this call made the transition publishes `finished`. Returns
 * whether it did.
 */
export async function endInError(
  deps: EndInErrorDeps,
  stepId: string,
  failure: { code: string; message: string },
): Promise<boolean> {
  const row = await deps.steps.markFinished({
    id: stepId,
    status: 'error',
    exitCode: null,
    error: failure.message,
    errorCode: failure.code,
  });
  if (!row) return false;
  const publisher = await deps.openPublisher({ stepId, secrets: [], outputLimitBytes: 1024 });
  try {
    await publisher.finished({
      status: 'error',
      exitCode: null,
      error: failure.message,
      durationMs: row.durationMs ?? undefined,
    });
  } finally {
    await publisher.close();
  }
  return true;
}
