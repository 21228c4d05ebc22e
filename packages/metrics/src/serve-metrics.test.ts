import { afterEach, describe, expect, it } from 'vitest';
import { SandfleetMetrics } from './sandfleet-metrics.js';
import { type MetricsServer, serveMetrics } from './serve-metrics.js';

describe('serveMetrics', () => {
  let server: MetricsServer | undefined;

  afterEach(async () => {
    await server?.close();
  });

  it('serves the metrics at /metrics in Prometheus text format and 404 elsewhere', async () => {
    const metrics = new SandfleetMetrics();
    metrics.stepFinished('succeeded', 1);
    server = await serveMetrics({ metrics, port: 0, host: '127.0.0.1' });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/metrics`);
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toContain('sandfleet_steps_finished_total{status="succeeded"} 1');
    expect((await fetch(new URL('/other', server.url))).status).toBe(404);
  });

  it('closes idempotently', async () => {
    server = await serveMetrics({ metrics: new SandfleetMetrics(), port: 0, host: '127.0.0.1' });
    const url = server.url;
    await Promise.all([server.close(), server.close()]);
    await expect(fetch(url)).rejects.toThrow();
  });
});
