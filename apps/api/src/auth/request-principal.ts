import type { Principal } from '@sandfleet/steps';
import type { FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request authenticated as; undefined without authentication (no-auth mode, public routes). */
    principal?: Principal;
  }
}

/** Records who `request` authenticated as; its log lines from here on carry `tokenName`. */
export function setPrincipal(request: FastifyRequest, principal: Principal): void {
  request.principal = principal;
  request.log = request.log.child({ tokenName: principal.name });
}
