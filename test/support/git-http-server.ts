import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The username of the runtime's credential helper. */
export const GIT_USERNAME = 'x-access-token';

export interface GitHttpServerOptions {
  /** Address to listen on (the gateway of the test's Docker network). */
  host: string;
  /** The password (the git token) basic auth accepts, with {@link GIT_USERNAME}. */
  token: string;
}

/** One request the server answered, for assertions. */
export interface GitRequest {
  method: string;
  path: string;
  status: number;
  /** The basic-auth password sent, if any. */
  password?: string;
}

/**
 * A smart-HTTP git server for tests: `git http-backend` behind basic auth, serving bare
 * repositories of a temp dir (pushes allowed). 401 without the right credentials.
 */
export class GitHttpServer {
  readonly root: string;
  readonly requests: GitRequest[] = [];
  readonly #server: Server;
  readonly #token: string;

  private constructor(root: string, token: string) {
    this.root = root;
    this.#token = token;
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  static async start(options: GitHttpServerOptions): Promise<GitHttpServer> {
    const server = new GitHttpServer(await mkdtemp(join(tmpdir(), 'sandfleet-git-')), options.token);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(0, options.host, resolve);
    });
    return server;
  }

  /** `http://host:port/<name>.git`. */
  url(name: string): string {
    const { address, port } = this.#server.address() as AddressInfo;
    return `http://${address}:${port}/${name}.git`;
  }

  /** Path of the bare repository `<name>.git`. */
  bare(name: string): string {
    return join(this.root, `${name}.git`);
  }

  /** A bare repository with `main` holding one commit of README.md; returns that commit. */
  async createRepo(name: string): Promise<string> {
    const bare = this.bare(name);
    git(this.root, 'init', '--quiet', '--bare', '--initial-branch=main', bare);
    git(bare, 'config', 'http.receivepack', 'true');
    const scratch = await mkdtemp(join(this.root, 'scratch-'));
    git(scratch, 'init', '--quiet', '--initial-branch=main');
    await writeFile(join(scratch, 'README.md'), `# ${name}\n`);
    git(scratch, 'add', 'README.md');
    git(scratch, 'commit', '--quiet', '-m', 'initial commit');
    git(scratch, 'push', '--quiet', bare, 'main');
    await rm(scratch, { recursive: true, force: true });
    return git(bare, 'rev-parse', 'main');
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await rm(this.root, { recursive: true, force: true });
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const password = basicPassword(req.headers.authorization);
    const record = (status: number) =>
      this.requests.push({
        method: req.method ?? '',
        path: url.pathname,
        status,
        ...(password === undefined ? {} : { password }),
      });
    if (password !== this.#token) {
      record(401);
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="sandfleet-test"' }).end('unauthorized\n');
      req.resume();
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: this.root,
        GIT_HTTP_EXPORT_ALL: '1',
        GATEWAY_INTERFACE: 'CGI/1.1',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        REMOTE_USER: GIT_USERNAME,
        REMOTE_ADDR: req.socket.remoteAddress ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['content-encoding']
          ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] }
          : {}),
        ...(typeof req.headers['git-protocol'] === 'string'
          ? { GIT_PROTOCOL: req.headers['git-protocol'] }
          : {}),
      },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    req.pipe(cgi.stdin);
    cgi.stdin.on('error', () => {});
    respondWithCgi(cgi.stdout, res, record);
    cgi.on('error', () => res.destroy());
  }
}

/** Parses CGI output (headers, blank line, body) into the HTTP response, streaming the body. */
function respondWithCgi(
  out: NodeJS.ReadableStream,
  res: ServerResponse,
  record: (status: number) => void,
): void {
  let head = Buffer.alloc(0);
  let headersDone = false;
  out.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf('\r\n\r\n');
    const lf = head.indexOf('\n\n');
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    if (end < 0) return;
    const separator = end === crlf ? 4 : 2;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('latin1').split(/\r?\n/)) {
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
      else headers[name] = value;
    }
    headersDone = true;
    record(status);
    res.writeHead(status, headers);
    res.write(head.subarray(end + separator));
  });
  out.on('end', () => {
    if (!headersDone) {
      record(502);
      res.writeHead(502).end('bad CGI response\n');
    } else res.end();
  });
}

function basicPassword(header: string | undefined): string | undefined {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (match?.[1] === undefined) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && decoded.slice(0, colon) === GIT_USERNAME ? decoded.slice(colon + 1) : undefined;
}

/** `git` on the host with a fixed identity, returning trimmed stdout. */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}
