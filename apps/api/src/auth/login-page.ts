const ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);

/** Headers of the login page: no scripts, no framing, no caching. */
export const LOGIN_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

/** Options of {@link loginPage}. */
export interface LoginPageOptions {
  /** Where to go after signing in (already checked). */
  next: string;
  /** The last attempt's token was not valid. */
  failed?: boolean;
  /** Too many failed attempts: the next is accepted in this many seconds. */
  retryAfterSeconds?: number;
}

function alertOf(options: LoginPageOptions): string {
  if (options.retryAfterSeconds !== undefined) {
    const seconds = Math.ceil(options.retryAfterSeconds);
    return `<p class="error" role="alert">Too many failed attempts. Try again in ${seconds} s.</p>`;
  }
  return options.failed ? '<p class="error" role="alert">That token is not valid.</p>' : '';
}

/** The login form: one password field for an API token, posted to `/login`. */
export function loginPage(options: LoginPageOptions): string {
  const message = alertOf(options);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sandfleet · sign in</title>
<style>
body{font-family:system-ui,sans-serif;background:#f4f5f7;display:grid;place-items:center;min-height:100vh;margin:0}
form{background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002;width:min(22rem,90vw)}
h1{font-size:1.25rem;margin:0 0 1rem}label{display:block;margin-bottom:.5rem}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit}
button{margin-top:1rem;padding:.5rem 1rem;font:inherit;cursor:pointer}.error{color:#b00020}
</style>
</head>
<body>
<form method="post" action="/login">
<h1>Sandfleet</h1>
${message}<label for="token">API token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<input type="hidden" name="next" value="${escapeHtml(options.next)}">
<button type="submit">Sign in</button>
</form>
</body>
</html>
`;
}
