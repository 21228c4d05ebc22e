import type Docker from 'dockerode';

/** One container start or death the engine reported, by the step and attempt of its labels. */
interface ContainerEvent {
  status: 'start' | 'die' | 'kill';
  stepId: string;
  attempt: string;
  exitCode?: number;
  /** The signal of a `kill`. */
  signal?: string;
  time: number;
  key: string;
}

/**
 * Follows an engine's container starts and deaths (re-subscribing across engine restarts) to tell
 * how often each step attempt's container ran, and whether a step ran again after one of its
 * containers had exited on its own.
 */
export class ContainerStarts {
  readonly #docker: Docker;
  readonly #seen = new Set<string>();
  readonly #events: ContainerEvent[] = [];
  #stopped = false;
  #stream: NodeJS.ReadableStream | undefined;
  #loop: Promise<void> | undefined;

  constructor(docker: Docker) {
    this.#docker = docker;
  }

  start(): void {
    this.#loop = this.#follow();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    (this.#stream as { destroy?: () => void } | undefined)?.destroy?.();
    await this.#loop;
  }

  /** Step attempts whose container started more than once. */
  attemptsRunTwice(): string[] {
    const starts = new Map<string, number>();
    for (const event of this.#events)
      if (event.status === 'start')
        starts.set(
          `${event.stepId}#${event.attempt}`,
          (starts.get(`${event.stepId}#${event.attempt}`) ?? 0) + 1,
        );
    return [...starts].filter(([, count]) => count > 1).map(([key]) => key);
  }

  /** The engine's events of one step, as lines (`12:00:01 start #1`, `… kill #1 signal 15`). */
  eventsOf(stepId: string): string[] {
    return this.#events
      .filter((event) => event.stepId === stepId)
      .map((event) => {
        const at = new Date(event.time * 1000).toISOString().slice(11, 19);
        const detail =
          event.status === 'die' ? ` exit ${event.exitCode}` : event.signal ? ` signal ${event.signal}` : '';
        return `${at} ${event.status} #${event.attempt}${detail}`;
      });
  }

  /** Steps with a container that exited 0 (finished its work) and a later start of another. */
  finishedThenRunAgain(): string[] {
    const finished = new Set<string>();
    const again = new Set<string>();
    for (const event of this.#events) {
      if (event.status === 'die' && event.exitCode === 0) finished.add(event.stepId);
      else if (event.status === 'start' && finished.has(event.stepId)) again.add(event.stepId);
    }
    return [...again];
  }

  async #follow(): Promise<void> {
    let since = Math.floor(Date.now() / 1000) - 1;
    while (!this.#stopped) {
      try {
        const stream = (await this.#docker.getEvents({
          since,
          filters: {
            type: ['container'],
            event: ['start', 'die', 'kill'],
            label: ['sandfleet.managed=true'],
          },
        })) as NodeJS.ReadableStream;
        this.#stream = stream;
        let rest = '';
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          rest += chunk.toString();
          const lines = rest.split('\n');
          rest = lines.pop() ?? '';
          for (const line of lines) if (line.trim()) since = this.#record(JSON.parse(line), since);
        }
      } catch {
        // The engine is restarting: follow again once it answers.
      }
      if (!this.#stopped) await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  #record(
    event: {
      status: string;
      id: string;
      time: number;
      timeNano: number;
      Actor?: { Attributes?: Record<string, string> };
    },
    since: number,
  ): number {
    const key = `${event.id}:${event.status}:${event.timeNano}`;
    if (this.#seen.has(key)) return since;
    this.#seen.add(key);
    const labels = event.Actor?.Attributes ?? {};
    const stepId = labels['sandfleet.step-id'];
    const attempt = labels['sandfleet.attempt'];
    if (
      stepId &&
      attempt &&
      (event.status === 'start' || event.status === 'die' || event.status === 'kill')
    ) {
      const exitCode = labels.exitCode === undefined ? undefined : Number(labels.exitCode);
      this.#events.push({
        status: event.status,
        stepId,
        attempt,
        time: event.time,
        key,
        ...(exitCode === undefined ? {} : { exitCode }),
        ...(labels.signal === undefined ? {} : { signal: labels.signal }),
      });
    }
    return Math.max(since, event.time);
  }
}
