import { SandfleetClient } from '@sandfleet/client';
import { CliConfig, loadEnv, parseConfig } from '@sandfleet/config';
import { ApiStepBackend } from './backend/api-step-backend.js';
import type { StepBackend } from './backend/step-backend.js';
import type { DirectConnections } from './direct/direct-connections.js';

/** API of a `sandfleet` given a token but no URL: the one `sandfleet up` serves by default. */
export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/** The global `--api` and `--token` options; they win over SANDFLEET_API_URL / SANDFLEET_API_TOKEN. */
export interface ApiOptions {
  api?: string;
  token?: string;
}

/** The API the CLI talks to, when it talks to one. */
export interface ApiTarget {
  url: string;
  token: string | undefined;
}

/**
 * The API to talk to: given by `--api`/`--token` or SANDFLEET_API_URL/SANDFLEET_API_TOKEN (a token
 * alone means the local API, {@link DEFAULT_API_URL}); undefined = Redis and PostgreSQL directly.
 */
export function apiTarget(config: CliConfig, options: ApiOptions = {}): ApiTarget | undefined {
  const url = options.api ?? config.apiUrl;
  const token = options.token ?? config.apiToken;
  if (url === undefined && token === undefined) return undefined;
  return { url: url ?? DEFAULT_API_URL, token };
}

/**
 * What a CLI command works with: its config, and the way to the fleet, opened on first use and
 * closed at the end. Step commands go through {@link CliContext.steps}: the HTTP API when one is
 * configured, otherwise Redis and PostgreSQL directly.
 */
export class CliContext {
  readonly config: CliConfig;
  readonly api: ApiTarget | undefined;
  #direct?: Promise<DirectConnections>;
  #steps?: Promise<StepBackend>;

  constructor(env: NodeJS.ProcessEnv, options: ApiOptions = {}) {
    this.config = parseConfig(CliConfig, loadEnv({ env })) as CliConfig;
    this.api = apiTarget(this.config, options);
  }

  /** Where step commands go: the API when configured, else Redis and PostgreSQL. */
  steps(): Promise<StepBackend> {
    this.#steps ??= (async () => {
      if (this.api) {
        return new ApiStepBackend(new SandfleetClient({ baseUrl: this.api.url, token: this.api.token }));
      }
      const { DirectStepBackend } = await import('./direct/direct-step-backend.js');
      return new DirectStepBackend(await this.direct());
    })();
    return this.#steps;
  }

  /** Redis and PostgreSQL (for `migrate`, and step commands without an API). */
  direct(): Promise<DirectConnections> {
    this.#direct ??= import('./direct/direct-connections.js').then(
      ({ DirectConnections }) => new DirectConnections(this.config),
    );
    return this.#direct;
  }

  async close(): Promise<void> {
    const direct = await this.#direct?.catch(() => undefined);
    await direct?.close();
  }
}
