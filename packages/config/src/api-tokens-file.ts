import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  ApiTokensFile,
  DEFAULT_TOKEN_QUOTAS,
  type FieldIssue,
  formatIssue,
  toFieldIssues,
  type VaultAccess,
} from '@sandfleet/contracts';
import { ConfigError } from './errors.js';

const FILE_VAR = 'SANDFLEET_API_TOKENS_FILE';

/** What a token may use; a dimension left undefined is not restricted. */
export interface ApiTokenScope {
  agents?: readonly string[];
  secrets?: readonly string[];
  images?: readonly string[];
  /** The only team whose shared vault its steps mount (the file's `team`, else the token's name). */
  team?: string;
  /** The most its steps may ask of that vault; undefined: `write` allowed. */
  vault?: VaultAccess;
}

/** A token's quotas with every default filled in. */
export interface ApiTokenLimits {
  maxQueued: number;
  maxJobBytes: number;
  createsPerMinute: number;
}

/** One token the API accepts: never its text, only its SHA-256. */
export interface ApiToken {
  /** Recorded as the step's `producer`, logged as `tokenName`. */
  name: string;
  /** SHA-256 of the token, 64 lower-case hex digits. */
  sha256: string;
  scope: ApiTokenScope;
  /** Undefined: no quotas (the unrestricted tokens of `SANDFLEET_API_TOKENS`). */
  quotas?: ApiTokenLimits;
}

/** Name of the `index`-th (0-based) token of `SANDFLEET_API_TOKENS`: `env-1`, `env-2`, … */
export const envTokenName = (index: number): string => `env-${index + 1}`;

const sha256 = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/**
 * Parses the JSON text of a tokens file (see `ApiTokensFile` in `@sandfleet/contracts`).
 * @param file - the path, named in every problem.
 * @throws ConfigError naming `SANDFLEET_API_TOKENS_FILE`, the file and each bad field
 *   (`tokens.1.sha256: …`); never a token's text.
 */
export function parseApiTokensFile(text: string, file: string): ApiToken[] {
  const fail = (issues: readonly FieldIssue[]): never => {
    throw new ConfigError(
      issues.map((issue) => ({ path: FILE_VAR, message: `${file}: ${formatIssue(issue)}` })),
    );
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    return fail([{ path: '', message: `is not valid JSON (${(error as Error).message})` }]);
  }
  const parsed = ApiTokensFile.safeParse(json);
  if (!parsed.success) return fail(toFieldIssues(parsed.error));
  const tokens = parsed.data.tokens.map((entry) => ({
    name: entry.name,
    sha256: entry.sha256 ?? sha256(entry.token as string),
    scope: {
      ...(entry.agents ? { agents: entry.agents } : {}),
      ...(entry.secrets ? { secrets: entry.secrets } : {}),
      ...(entry.images ? { images: entry.images } : {}),
      team: entry.team ?? entry.name,
      ...(entry.vault ? { vault: entry.vault } : {}),
    },
    quotas: { ...DEFAULT_TOKEN_QUOTAS, ...entry.quotas },
  }));
  const repeats = tokens.flatMap((token, index) => {
    const first = tokens.findIndex((other) => other.sha256 === token.sha256);
    return first < index
      ? [{ path: `tokens.${index}`, message: `is the same token as tokens.${first}` }]
      : [];
  });
  if (repeats.length > 0) fail(repeats);
  return tokens;
}

/**
 * Every token the API accepts: those of `SANDFLEET_API_TOKENS` (unrestricted, no quotas, named
 * {@link envTokenName}) and those of the tokens file at `file`, when set.
 * @throws ConfigError when the file cannot be read or parsed, or a name or token appears twice.
 */
export function loadApiTokens(envTokens: readonly string[], file?: string): ApiToken[] {
  const fromEnv: ApiToken[] = envTokens.map((token, index) => ({
    name: envTokenName(index),
    sha256: sha256(token),
    scope: {},
  }));
  if (file === undefined) return fromEnv;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError([{ path: FILE_VAR, message: `${file}: cannot be read (${reason})` }]);
  }
  const fromFile = parseApiTokensFile(text, file);
  const problems = fromFile.flatMap((token, index) => {
    const env = fromEnv.find((other) => other.name === token.name || other.sha256 === token.sha256);
    if (!env) return [];
    const what = env.name === token.name ? `name ${token.name} is taken by` : 'token is also';
    return [
      { path: FILE_VAR, message: `${file}: tokens.${index}: ${what} SANDFLEET_API_TOKENS (${env.name})` },
    ];
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return [...fromEnv, ...fromFile];
}
