/**
 * Label of Sandfleet's egress objects on the engine, with what each is: `proxy` (the fleet's
 * proxy container), `network` (the proxy's outbound network), `step` (a step's own network),
 * `lock` (an {@link EgressLock} container). The reaper finds step networks by it.
 */
export const EGRESS_LABEL = 'sandfleet.egress';

/** Name of the proxy on every step network (the step's `HTTP_PROXY` names it). */
export const EGRESS_PROXY_ALIAS = 'egress-proxy';

/** Port Squid listens on in the egress proxy image. */
export const EGRESS_PROXY_PORT = 3128;
