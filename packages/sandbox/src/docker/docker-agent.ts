import { Agent } from 'node:http';
import { inspect } from 'node:util';

/**
 * The keep-alive HTTP agent of one sandbox's Docker connection, which close() can release.
 * docker-modem logs every request's options through `util.inspect(options, { showHidden: true,
 * depth: null })`, evaluated whether its debug log is on or not; the options hold this agent,
 * and a full inspection of an agent with open sockets was most of the worker's CPU per step
 * (`pnpm bench --quick`: 153 and 264 CPU-ms per step at concurrency 4 and 8 with a plain agent,
 * 38 and 48 with this one). So it inspects as its name.
 */
export class DockerAgent extends Agent {
  constructor() {
    super({ keepAlive: true });
  }

  [inspect.custom](): string {
    return 'DockerAgent';
  }
}
