/** Username sent with the token (GitHub's convention for tokens; other forges accept any name). */
export const GIT_TOKEN_USERNAME = 'x-access-token';
/** The variable holding the token in the environment of one git process of the runtime. */
export const GIT_PASSWORD_ENV = 'SANDFLEET_GIT_PASSWORD';

/**
 * A git credential helper answering `get` with the token read from the variable `envName` of the
 * git process's environment, so the token is never in an argument, a file or a config value.
 */
export function credentialHelper(envName: string): string {
  return `!f() { test "$1" = get || return 0; echo username=${GIT_TOKEN_USERNAME}; echo "password=\${${envName}}"; }; f`;
}

/**
 * `scheme://host[:port]` of an http(s) repository URL, the scope of the credential: git asks
 * helpers again for the host of a redirect, and the token must only go to the repository's host.
 * Undefined for other transports (ssh, file), which do not use credential helpers.
 */
export function credentialScope(repo: string): string | undefined {
  let url: URL;
  try {
    url = new URL(repo);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return `${url.protocol}//${url.host}`;
}

/** What one git invocation of the runtime adds to authenticate: config arguments and env. */
export interface GitAuth {
  /** `-c` arguments, given before the git subcommand (so nothing is written to a config). */
  configArgs: string[];
  /** Variables for that git process only. */
  env: Record<string, string>;
}

/**
 * The runtime's own git authentication for `repo`: other helpers (system, global) are reset and
 * ours is scoped to the repository's host. No token, or a transport without helpers: nothing.
 */
export function gitAuth(repo: string, token: string | undefined): GitAuth {
  const scope = credentialScope(repo);
  if (token === undefined || scope === undefined) return { configArgs: [], env: {} };
  return {
    // Other helpers are reset first (the runtime's git always resets them too, see git.ts).
    configArgs: [
      '-c',
      'credential.helper=',
      '-c',
      `credential.${scope}.helper=${credentialHelper(GIT_PASSWORD_ENV)}`,
    ],
    env: { [GIT_PASSWORD_ENV]: token },
  };
}

/**
 * Environment giving the step's own git commands the same credential, through `GIT_CONFIG_*`
 * variables (no file) and a helper reading the token variable the step already has. For the
 * repository's host the helpers configured before (such as a `store` the agent set up in its
 * global config, which would write the token into the home) are reset first. Empty when the step
 * sets `GIT_CONFIG_COUNT` itself, or without a token or an http(s) repository.
 */
export function childGitAuthEnv(
  repo: string,
  tokenEnv: string,
  env: Readonly<Record<string, string | undefined>>,
): Record<string, string> {
  const scope = credentialScope(repo);
  if (scope === undefined || !env[tokenEnv] || env.GIT_CONFIG_COUNT !== undefined) return {};
  return {
    GIT_CONFIG_COUNT: '2',
    GIT_CONFIG_KEY_0: `credential.${scope}.helper`,
    GIT_CONFIG_VALUE_0: '',
    GIT_CONFIG_KEY_1: `credential.${scope}.helper`,
    GIT_CONFIG_VALUE_1: credentialHelper(tokenEnv),
  };
}

/**
 * `text` with every occurrence of the token, and the user info of every URL in it, replaced by
 * `***` (for git's messages, which echo URLs, e.g. `fatal: unable to access 'https://u:pw@…'`).
 */
export function redactToken(text: string, token: string | undefined): string {
  return redactUrl(token ? text.split(token).join('***') : text);
}

// `scheme://userinfo@`: a user and password, or a lone token (`https://token@host`).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s@/"'?#]+@/gi;

/** `text` with the user info of every http(s) or other `scheme://` URL in it replaced by `***`. */
export function redactUrl(text: string): string {
  return text.replace(URL_USERINFO, '$1***@');
}
