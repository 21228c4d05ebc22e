import { Agent } from 'node:http';
import { inspect } from 'node:util';

/**
 * The keep-alive HTTP agent of one sandbox's Docker connection, which close() can release.
 * docker-modem logs every request's options through `util.inspect(options, { showHidden: true,
 * depth: null })`, evaluated whether its debug log is on or not; the options hold this agent,
 * and a full inspection of an agent with open sockets cost about 180 ms of CPU per step (profiled:
 * 209 ms of 235 worker CPU-ms per step in `pnpm bench`). So it inspects as its name.
 */
export class DockerAgent extends Agent {
  constructor() {
    super({ keepAlive: true });
  }

  [inspect.custom](): string {
    return 'DockerAgent';
  }
}
