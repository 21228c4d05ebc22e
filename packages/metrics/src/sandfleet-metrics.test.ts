import { describe, expect, it } from 'vitest';
import { SandfleetMetrics } from './sandfleet-metrics.js';

const line = (text: string, prefix: string) => text.split('\n').find((l) => l.startsWith(prefix));

describe('SandfleetMetrics', () => {
  it('records finished steps, durations, queue wait, phases and output bytes', async () => {
    const metrics = new SandfleetMetrics();
    metrics.observeQueueWait(0.2);
    metrics.stepFinished('succeeded', 1.5);
    metrics.stepFinished('succeeded', 0.5);
    metrics.stepFinished('failed', 3);
    metrics.addOutputBytes(1234);
    metrics.observeContainerPhases({ createMs: 40, injectMs: 5, startMs: 60, runMs: 1000, destroyMs: 30 });
    metrics.observeWarmPool('hit');
    metrics.observeWarmPool('hit');
    metrics.observeWarmPool('miss', 'limits');
    const text = await metrics.render();
    expect(line(text, 'sandfleet_warm_pool_runs_total{result="hit",cause=""}')).toMatch(/ 2$/);
    expect(line(text, 'sandfleet_warm_pool_runs_total{result="miss",cause="limits"}')).toMatch(/ 1$/);
    expect(line(text, 'sandfleet_steps_finished_total{status="succeeded"}')).toMatch(/ 2$/);
    expect(line(text, 'sandfleet_steps_finished_total{status="failed"}')).toMatch(/ 1$/);
    expect(line(text, 'sandfleet_step_duration_seconds_count{status="succeeded"}')).toMatch(/ 2$/);
    expect(line(text, 'sandfleet_step_duration_seconds_sum{status="succeeded"}')).toMatch(/ 2$/);
    expect(line(text, 'sandfleet_step_queue_wait_seconds_count')).toMatch(/ 1$/);
    expect(line(text, 'sandfleet_step_output_bytes_total')).toMatch(/ 1234$/);
    for (const phase of ['create', 'inject', 'start', 'run', 'destroy']) {
      expect(line(text, `sandfleet_container_phase_seconds_count{phase="${phase}"}`)).toMatch(/ 1$/);
    }
    expect(line(text, 'sandfleet_container_phase_seconds_sum{phase="run"}')).toMatch(/ 1$/);
  });

  it('counts active containers per worker', async () => {
    const metrics = new SandfleetMetrics();
    metrics.containerStarted('w1');
    metrics.containerStarted('w1');
    metrics.containerStarted('w2');
    metrics.containerStopped('w1');
    const text = await metrics.render();
    expect(line(text, 'sandfleet_active_containers{worker_id="w1"}')).toMatch(/ 1$/);
    expect(line(text, 'sandfleet_active_containers{worker_id="w2"}')).toMatch(/ 1$/);
  });

  it('reads queue depth and steps by status from their sources at each scrape', async () => {
    const metrics = new SandfleetMetrics();
    let waiting = 3;
    metrics.collectQueueDepth(async () => ({ waiting, active: 1 }));
    metrics.collectStepStatuses(async () => ({ queued: 3, succeeded: 7 }));
    expect(line(await metrics.render(), 'sandfleet_queue_jobs{state="waiting"}')).toMatch(/ 3$/);
    waiting = 0;
    const text = await metrics.render();
    expect(line(text, 'sandfleet_queue_jobs{state="waiting"}')).toMatch(/ 0$/);
    expect(line(text, 'sandfleet_steps{status="succeeded"}')).toMatch(/ 7$/);
  });

  it('leaves out a gauge whose source fails or hangs, counts the failure, and still renders', async () => {
    const failures: string[] = [];
    const metrics = new SandfleetMetrics({
      collectTimeoutMs: 50,
      onCollectError: (_error, source) => failures.push(source),
    });
    metrics.collectQueueDepth(async () => {
      throw new Error('redis down');
    });
    metrics.collectStepStatuses(() => new Promise(() => {}));
    const text = await metrics.render();
    expect(text).not.toMatch(/^sandfleet_queue_jobs\{/m);
    expect(text).not.toMatch(/^sandfleet_steps\{/m);
    expect(line(text, 'sandfleet_metrics_collect_failures_total{source="queue"}')).toMatch(/ 1$/);
    expect(line(text, 'sandfleet_metrics_collect_failures_total{source="steps"}')).toMatch(/ 1$/);
    expect(failures.sort()).toEqual(['queue', 'steps']);
  });

  it('records HTTP requests by route template and status code', async () => {
    const metrics = new SandfleetMetrics();
    metrics.observeHttpRequest({
      method: 'GET',
      route: '/v1/steps/:id',
      statusCode: 404,
      durationSeconds: 0.01,
    });
    const text = await metrics.render();
    expect(
      line(text, 'sandfleet_http_requests_total{method="GET",route="/v1/steps/:id",status_code="404"}'),
    ).toMatch(/ 1$/);
    // Only requests made with a token count per token.
    expect(text).not.toMatch(/^sandfleet_http_requests_by_token_total\{/m);
    for (const statusCode of [202, 202, 429])
      metrics.observeHttpRequest({
        method: 'POST',
        route: '/v1/steps',
        statusCode,
        durationSeconds: 0,
        tokenName: 'team-a',
      });
    const after = await metrics.render();
    expect(line(after, 'sandfleet_http_requests_by_token_total{token="team-a",status_code="202"}')).toMatch(
      / 2$/,
    );
    expect(line(after, 'sandfleet_http_requests_by_token_total{token="team-a",status_code="429"}')).toMatch(
      / 1$/,
    );
  });

  it('keeps instances apart: each has its own registry, none uses the global one', async () => {
    const a = new SandfleetMetrics({ defaultLabels: { service: 'api' } });
    const b = new SandfleetMetrics();
    a.stepFinished('succeeded', 1);
    expect(await a.render()).toContain('sandfleet_steps_finished_total{status="succeeded",service="api"} 1');
    expect(await b.render()).not.toMatch(/^sandfleet_steps_finished_total\{/m);
    const { register } = await import('prom-client');
    expect(register.getSingleMetric('sandfleet_steps_finished_total')).toBeUndefined();
  });

  it('exports process metrics only when asked', async () => {
    expect(await new SandfleetMetrics().render()).not.toContain('process_cpu_seconds_total');
    expect(await new SandfleetMetrics({ processMetrics: true }).render()).toContain(
      'process_cpu_seconds_total',
    );
  });
});
