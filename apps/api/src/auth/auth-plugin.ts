import fastifyCookie from '@fastify/cookie';
import { ConfigError } from '@sandfleet/config';
import type { Principal } from '@sandfleet/steps';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthOptions } from '../api-deps.js';
import { handleError } from '../error-handler.js';
import { ApiError } from '../errors.js';
import { PUBLIC_ROUTE } from '../route-config.js';
import { LOGIN_PAGE_HEADERS, loginPage } from './login-page.js';
import { LoginRateLimiter, type LoginRateLimiterOptions } from './login-rate-limiter.js';
import { crossSiteEvidence, SAFE_METHODS, sameOriginProblem } from './request-origin.js';
import { setPrincipal } from './request-principal.js';
import { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS } from './session-cookie.js';
import { SessionStore, type SessionStoreOptions } from './session-store.js';
import { TokenVerifier } from './token-verifier.js';

// A leaf module of their own, so that other plugins can name the cookie without importing this one.
export { SESSION_COOKIE, SESSION_MAX_AGE_SECONDS } from './session-cookie.js';
/** Where a browser lands after signing in when it came from nowhere in particular. */
export const AFTER_LOGIN_PATH = '/admin/queues';

// Browser pages whose unauthenticated visits are sent to /login rather than answered 401.
const BROWSER_PAGE = /^\/(?:admin\/queues|docs)(?:[/?]|$)/;
// A redirect target we accept from the login form: one of those pages, printable ASCII only.
const SAFE_NEXT = /^\/(?:admin\/queues|docs)(?:[/?][\x21-\x7e]*)?$/;
const FORM_BODY_LIMIT = 4096;

/** Options of {@link authPlugin}. */
export interface AuthPluginOptions {
  auth: AuthOptions;
  /** Expiry and bound of browser sessions. @defaultValue `SessionStore`'s defaults */
  sessions?: SessionStoreOptions;
  /** Failed sign-ins allowed per client IP. @defaultValue `LoginRateLimiter`'s defaults (10 a minute) */
  loginLimit?: LoginRateLimiterOptions;
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
  return match?.[1];
}

const safeNext = (next: unknown) =>
  typeof next === 'string' && SAFE_NEXT.test(next) && !next.includes('\\') ? next : AFTER_LOGIN_PATH;

const cookieOptions = (request: FastifyRequest) =>
  ({ path: '/', httpOnly: true, sameSite: 'strict', secure: request.protocol === 'https' }) as const;

// Cookie-authenticated changes need proof of the API's own page; sign-in, sign-out and no-auth
// mode are refused only on evidence of another site, which a non-browser never sends. Bearer
// requests are not checked: a browser cannot send one cross-site without a CORS grant.
function originProblem(request: FastifyRequest, byCookie: boolean): string | undefined {
  if (SAFE_METHODS.has(request.method)) return undefined;
  return byCookie
    ? sameOriginProblem(request.headers, request.host)
    : crossSiteEvidence(request.headers, request.host);
}

function refuseCrossSite(request: FastifyRequest, reply: FastifyReply, why: string) {
  const error = new ApiError('FORBIDDEN', `cross-site request refused: ${why}`);
  return handleError(error, request, reply);
}

function wantsPage(request: FastifyRequest): boolean {
  return (
    request.method === 'GET' &&
    BROWSER_PAGE.test(request.url) &&
    (request.headers.accept ?? '').includes('text/html')
  );
}

/**
 * Authentication for every route except those marked {@link PUBLIC_ROUTE}: a bearer token in
 * `Authorization`, or the session cookie set by `POST /login` (a session id of this process).
 * Unauthenticated browser visits of Bull Board and the docs are redirected to `/login`; everything
 * else gets 401 `UNAUTHORIZED`. A cookie-authenticated POST/PUT/PATCH/DELETE must prove it comes
 * from the API's own pages, and a sign-in, sign-out or (without authentication) any change that
 * shows another site's `Origin` or `Sec-Fetch-Site` is refused: 403 `FORBIDDEN`. Bearer requests
 * are not checked. Failed sign-ins are limited per client IP: 429 `RATE_LIMITED`.
 *
 * Applies to the whole app (it is not encapsulated), so register it before the routes.
 * @throws ConfigError when no token is configured and `allowNoAuth` is not set.
 */
export async function authPlugin(app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  const verifier = new TokenVerifier(options.auth.tokens);
  const open = verifier.empty && options.auth.allowNoAuth === true;
  if (verifier.empty && !open) {
    throw new ConfigError([
      {
        path: 'SANDFLEET_API_TOKENS',
        message: 'must list at least one token (or set SANDFLEET_API_ALLOW_NO_AUTH=true on a loopback host)',
      },
    ]);
  }
  if (open) app.log.warn('API authentication is OFF (SANDFLEET_API_ALLOW_NO_AUTH)');
  // Session id → who the session's token stands for.
  const sessions = new SessionStore<Principal>(options.sessions);
  const limiter = new LoginRateLimiter(options.loginLimit);
  await app.register(fastifyCookie);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (open || request.routeOptions.config.public) {
      const why = originProblem(request, false);
      return why ? refuseCrossSite(request, reply, why) : undefined;
    }
    const bearer = bearerToken(request.headers.authorization);
    const principal =
      bearer === undefined ? sessions.get(request.cookies[SESSION_COOKIE]) : verifier.verify(bearer);
    if (principal) setPrincipal(request, principal);
    if (bearer !== undefined) {
      if (principal) return;
    } else if (principal) {
      const why = originProblem(request, true);
      return why ? refuseCrossSite(request, reply, why) : undefined;
    }
    if (wantsPage(request)) return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    // Answered here rather than thrown: an encapsulated plugin (Bull Board) has an error handler of its own.
    const error = new ApiError(
      'UNAUTHORIZED',
      'a valid bearer token is required (Authorization: Bearer <token>)',
    );
    return handleError(error, request, reply);
  });
  await app.register(async (login) => {
    login.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    login.get('/login', { config: PUBLIC_ROUTE, schema: { hide: true } }, async (request, reply) => {
      const { next } = request.query as { next?: unknown };
      if (open) return reply.redirect(safeNext(next), 303);
      return reply.headers(LOGIN_PAGE_HEADERS).send(loginPage({ next: safeNext(next) }));
    });
    login.post('/login', { config: PUBLIC_ROUTE, schema: { hide: true } }, async (request, reply) => {
      const { token, next } = (request.body ?? {}) as { token?: unknown; next?: unknown };
      const target = safeNext(next);
      if (open) return reply.redirect(target, 303);
      const form = request.headers['content-type']?.startsWith('application/x-www-form-urlencoded');
      const retryAfter = limiter.retryAfterSeconds(request.ip);
      if (retryAfter !== undefined) {
        reply.header('retry-after', String(retryAfter));
        if (form) {
          return reply
            .status(429)
            .headers(LOGIN_PAGE_HEADERS)
            .send(loginPage({ next: target, retryAfterSeconds: retryAfter }));
        }
        throw new ApiError('RATE_LIMITED', `too many failed sign-ins; try again in ${retryAfter} s`);
      }
      const principal = typeof token === 'string' ? verifier.verify(token.trim()) : undefined;
      if (!principal) {
        limiter.fail(request.ip);
        request.log.info({ ip: request.ip }, 'sign-in failed');
        if (form) {
          return reply
            .status(401)
            .headers(LOGIN_PAGE_HEADERS)
            .send(loginPage({ next: target, failed: true }));
        }
        throw new ApiError('UNAUTHORIZED', 'that token is not valid');
      }
      // A session signed in before stays valid until it is signed out or expires.
      return reply
        .setCookie(SESSION_COOKIE, sessions.create(principal), {
          ...cookieOptions(request),
          maxAge: SESSION_MAX_AGE_SECONDS,
        })
        .redirect(target, 303);
    });
    login.post('/logout', { config: PUBLIC_ROUTE, schema: { hide: true } }, async (request, reply) => {
      sessions.delete(request.cookies[SESSION_COOKIE]);
      return reply.clearCookie(SESSION_COOKIE, cookieOptions(request)).redirect('/login', 303);
    });
  });
}

// Fastify's documented opt-out of encapsulation (what fastify-plugin sets): the hook guards every route.
Object.assign(authPlugin, { [Symbol.for('skip-override')]: true });
