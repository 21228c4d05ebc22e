import fastifyCookie from '@fastify/cookie';
import { ConfigError } from '@sandfleet/config';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthOptions } from '../api-deps.js';
import { handleError } from '../error-handler.js';
import { ApiError } from '../errors.js';
import { PUBLIC_ROUTE } from '../route-config.js';
import { LOGIN_PAGE_HEADERS, loginPage } from './login-page.js';
import { TokenVerifier } from './token-verifier.js';

/** Name of the browser session cookie (it holds an API token; HttpOnly, SameSite=Strict). */
export const SESSION_COOKIE = 'sandfleet_session';
/** Lifetime of a browser session, seconds. */
export const SESSION_MAX_AGE_SECONDS = 12 * 3600;
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
}

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer[ \t]+(\S+)[ \t]*$/i);
  return match?.[1];
}

const safeNext = (next: unknown) =>
  typeof next === 'string' && SAFE_NEXT.test(next) && !next.includes('\\') ? next : AFTER_LOGIN_PATH;

function wantsPage(request: FastifyRequest): boolean {
  return (
    request.method === 'GET' &&
    BROWSER_PAGE.test(request.url) &&
    (request.headers.accept ?? '').includes('text/html')
  );
}

/**
 * Authentication for every route except those marked {@link PUBLIC_ROUTE}: a bearer token in
 * `Authorization`, or the session cookie set by `POST /login`. Unauthenticated browser visits of
 * Bull Board and the docs are redirected to `/login`; everything else gets 401 `UNAUTHORIZED`.
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
  await app.register(fastifyCookie);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (open || request.routeOptions.config.public) return;
    const token = bearerToken(request.headers.authorization) ?? request.cookies[SESSION_COOKIE];
    if (verifier.verify(token)) return;
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
      if (typeof token !== 'string' || !verifier.verify(token.trim())) {
        if (request.headers['content-type']?.startsWith('application/x-www-form-urlencoded')) {
          return reply
            .status(401)
            .headers(LOGIN_PAGE_HEADERS)
            .send(loginPage({ next: target, failed: true }));
        }
        throw new ApiError('UNAUTHORIZED', 'that token is not valid');
      }
      return reply
        .setCookie(SESSION_COOKIE, token.trim(), {
          path: '/',
          httpOnly: true,
          sameSite: 'strict',
          secure: request.protocol === 'https',
          maxAge: SESSION_MAX_AGE_SECONDS,
        })
        .redirect(target, 303);
    });
    login.post('/logout', { config: PUBLIC_ROUTE, schema: { hide: true } }, async (request, reply) =>
      reply
        .clearCookie(SESSION_COOKIE, {
          path: '/',
          httpOnly: true,
          sameSite: 'strict',
          secure: request.protocol === 'https',
        })
        .redirect('/login', 303),
    );
  });
}

// Fastify's documented opt-out of encapsulation (what fastify-plugin sets): the hook guards every route.
Object.assign(authPlugin, { [Symbol.for('skip-override')]: true });
