import * as z from 'zod';

/** Result of one readiness check. */
export const CheckResult = z.enum(['ok', 'unreachable']);
export type CheckResult = z.infer<typeof CheckResult>;

/** What `/readyz` checked: Redis and PostgreSQL (also `error.details.checks` of its 503). */
export const ReadinessChecks = z.object({ redis: CheckResult, postgres: CheckResult });
export type ReadinessChecks = z.infer<typeof ReadinessChecks>;

/** `GET /healthz`: the process answers. */
export const LivenessView = z.object({ status: z.literal('ok') });
export type LivenessView = z.infer<typeof LivenessView>;

/** `GET /readyz`: Redis and PostgreSQL answer. */
export const ReadinessView = z.object({ status: z.literal('ok'), checks: ReadinessChecks });
export type ReadinessView = z.infer<typeof ReadinessView>;
