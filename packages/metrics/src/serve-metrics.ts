import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandfleetMetrics } from './sandfleet-metrics.js';

/** Options of {@link serveMetrics}. */
export interface ServeMetricsOptions {
  metrics: SandfleetMetrics;
  /** Port to listen on; 0 picks a free one (tests). Callers treat a configured 0 as "off". */
  port: number;
  /** Address to listen on. @defaultValue `0.0.0.0` (Prometheus scrapes from elsewhere) */
  host?: string;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** `http://host:port/metrics` */
  url: string;
  port: number;
  /** Stops listening and ends open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * Serves `GET /metrics` (Prometheus text format) on a tiny node:http server, for processes without
 * an HTTP API such as workers. Anything else is 404; a failed render is 500 without details.
 */
export async function serveMetrics(options: ServeMetricsOptions): Promise<MetricsServer> {
  const { metrics } = options;
  const host = options.host ?? '0.0.0.0';
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    metrics.render().then(
      (text) => {
        response.writeHead(200, { 'content-type': metrics.contentType });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      () => {
        response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics failed\n');
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shown = displayHost(host);
  let closed: Promise<void> | undefined;
  return {
    url: `http://${shown}:${port}/metrics`,
    port,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

/** A host to put in a URL: wildcard addresses become loopback, IPv6 gets brackets. */
function displayHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}
