import type { IncomingHttpHeaders } from 'node:http';

/**
 * Header a client sets to say a request is its own and not a cross-site form's: browsers send
 * no custom header cross-site without a CORS preflight, which the API never grants.
 */
export const SANDFLEET_REQUEST_HEADER = 'x-sandfleet-request';

/** Methods that change nothing, and so need no proof of where they came from. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

const single = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * Why a request seems to come from another site, or undefined when nothing says so: a
 * `Sec-Fetch-Site` other than `same-origin`/`none`, or an `Origin` (other than `null`) whose
 * host:port is not `host`, the API's own as the request addressed it. A client that sends
 * neither (curl, the SDK) shows nothing.
 */
export function crossSiteEvidence(headers: IncomingHttpHeaders, host: string): string | undefined {
  const site = single(headers['sec-fetch-site'])?.toLowerCase();
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `Sec-Fetch-Site is ${site}`;
  const origin = single(headers.origin);
  if (origin === undefined || origin === 'null') return undefined;
  if (originHost(origin) === host.toLowerCase()) return undefined;
  return `Origin ${origin.slice(0, 200)} is not this API's (${host})`;
}

/**
 * Why a cookie-authenticated request that changes state is refused, or undefined when it shows
 * it is the API's own page's: no cross-site evidence, and a same-origin `Origin`,
 * `Sec-Fetch-Site: same-origin` or `X-Sandfleet-Request`.
 */
export function sameOriginProblem(headers: IncomingHttpHeaders, host: string): string | undefined {
  const evidence = crossSiteEvidence(headers, host);
  if (evidence) return evidence;
  const origin = single(headers.origin);
  if (origin !== undefined && origin !== 'null') return undefined;
  if (single(headers['sec-fetch-site'])?.toLowerCase() === 'same-origin') return undefined;
  if (single(headers[SANDFLEET_REQUEST_HEADER])) return undefined;
  return 'a request signed in by cookie must come from this API’s own pages: send a same-origin Origin, Sec-Fetch-Site: same-origin or X-Sandfleet-Request: 1';
}
