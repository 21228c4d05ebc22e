import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { LABELS } from '@sandfleet/contracts';
import type Docker from 'dockerode';

/** One `die` event as the engine streams it (only the fields read here). */
interface DieEvent {
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/**
 * What the engine announced, through its event stream, of the exits of the containers runs are
 * waiting on. An engine that shuts down just as a container exits may send the `die` event (with
 * the real exit code) and then lose the exit status: restarted, it reports 255 for it (seen in
 * the fault suite: `die` with exit 0 on the event stream, 255 from inspect, and the finished step
 * run a second time). One event stream per sandbox, opened while runs watch containers and again
 * after it breaks; best effort: an exit it did not see is judged as before.
 */
export class ExitWitness {
  /** Container id → the exit code its `die` event carried, once seen. */
  private readonly watched = new Map<string, number | undefined>();
  private stream: Readable | undefined;
  private opening: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly docker: Docker) {}

  /** Watches a container from now on; resolves once the stream is open (or could not be). Never rejects. */
  async watch(containerId: string): Promise<void> {
    this.watched.set(containerId, undefined);
    await this.open();
  }

  /** The exit code the engine announced for the container, if it did. */
  exitCode(containerId: string): number | undefined {
    return this.watched.get(containerId);
  }

  forget(containerId: string): void {
    this.watched.delete(containerId);
  }

  close(): void {
    this.closed = true;
    this.watched.clear();
    this.stream?.destroy();
    this.stream = undefined;
  }

  private open(): Promise<void> {
    if (this.closed || this.stream) return Promise.resolve();
    this.opening ??= this.subscribe().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async subscribe(): Promise<void> {
    let stream: Readable;
    try {
      stream = (await this.docker.getEvents({
        filters: { type: ['container'], event: ['die'], label: [`${LABELS.managed}=true`] },
      })) as unknown as Readable;
    } catch {
      return; // The engine is away: the next run's watch opens it again.
    }
    if (this.closed) {
      stream.destroy();
      return;
    }
    this.stream = stream;
    const ended = () => {
      if (this.stream === stream) this.stream = undefined;
    };
    stream.on('end', ended).on('close', ended).on('error', ended);
    // The interface re-emits the stream's errors (an engine going away): `ended` has them.
    createInterface({ input: stream })
      .on('line', (line) => this.record(line))
      .on('error', () => undefined);
  }

  private record(line: string): void {
    if (line.trim() === '') return;
    let event: DieEvent;
    try {
      event = JSON.parse(line) as DieEvent;
    } catch {
      return;
    }
    const id = event.Actor?.ID;
    const code = Number(event.Actor?.Attributes?.exitCode);
    if (event.Action !== 'die' || id === undefined || !this.watched.has(id) || !Number.isInteger(code))
      return;
    this.watched.set(id, code);
  }
}
