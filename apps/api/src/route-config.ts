// Per-route options the API's hooks read, declared on Fastify's route config.
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without authentication (`/healthz`, `/readyz`, `/login`, `/logout`). @defaultValue false */
    public?: boolean;
  }
}

/** Route config of an endpoint anyone may call. */
export const PUBLIC_ROUTE = { public: true } as const;
