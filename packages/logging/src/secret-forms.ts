/**
 * Encoded forms shorter than this are not masked: a 1–3 character fragment of base64 or hex
 * occurs by chance in ordinary text, and masking it would reveal nothing the literal does not.
 * The literal and its escaped spellings are masked whatever their length.
 */
export const MIN_ENCODED_FORM_LENGTH = 4;

/** Column at which MIME (RFC 2045) and `base64` without `-w0` break their lines. */
export const BASE64_LINE_COLUMNS = 76;

const XML_ENTITIES: Record<string, readonly string[]> = {
  '&': ['&amp;', '&#38;', '&#x26;'],
  '<': ['&lt;', '&#60;', '&#x3c;', '&#x3C;'],
  '>': ['&gt;', '&#62;', '&#x3e;', '&#x3E;'],
  '"': ['&quot;', '&#34;', '&#x22;'],
  "'": ['&apos;', '&#39;', '&#x27;'],
};

/**
 * Every form in which `secret` is masked, each at least one character long, without repeats:
 *
 * - the literal, and the literal without surrounding double quotes (`"x"` → `x`);
 * - JSON-escaped (the inside of `JSON.stringify`), once and twice (a JSON string inside JSON);
 * - XML/HTML-escaped (`&amp; &lt; &gt; &quot; &apos;`, and the `&#39;`/`&#x27;` numeric spellings);
 * - command-line escaped (`"` → `\"`), shell single-quote escaped (`'` → `'\''`), and the
 *   doubled-quote escape of expressions and PowerShell (`'` → `''`);
 * - URL-encoded: `encodeURIComponent`, form-encoded (`+` for space), and every byte %-encoded,
 *   each with upper- and lower-case hex digits;
 * - hex of the UTF-8 bytes, lower and upper case;
 * - base64 of the UTF-8 bytes at each of the three byte offsets it can start at inside a longer
 *   payload (`user:password` encoded whole), standard and URL-safe alphabets: the inner part that
 *   does not depend on the surrounding bytes, plus, at offset 0, the whole encoding with and
 *   without `=` padding, and at offsets 1 and 2 the encoding up to the payload's end;
 * - the base64 of the UTF-16LE bytes (PowerShell's `-EncodedCommand`), offset 0;
 * - base64 broken into lines of {@link BASE64_LINE_COLUMNS} (`base64`, MIME), `\n` and `\r\n`,
 *   when the value's base64 is longer than one line: at offset 0 only.
 *
 * Encoded forms (base64, hex, %-encoding of every byte) shorter than
 * {@link MIN_ENCODED_FORM_LENGTH} are left out. The empty secret has no forms.
 */
export function secretForms(secret: string): string[] {
  if (secret.length === 0) return [];
  const forms = new Set<string>();
  const add = (form: string) => {
    if (form.length > 0) forms.add(form);
  };
  const addEncoded = (form: string) => {
    if (form.length >= MIN_ENCODED_FORM_LENGTH) forms.add(form);
  };
  const literals = [secret];
  if (secret.length > 2 && secret.startsWith('"') && secret.endsWith('"')) literals.push(secret.slice(1, -1));
  for (const value of literals) {
    add(value);
    const json = jsonInner(value);
    add(json);
    add(jsonInner(json));
    add(xmlEscape(value, 0));
    add(xmlEscape(value, 1));
    add(xmlEscape(value, 2));
    add(value.replaceAll('"', '\\"'));
    add(value.replaceAll("'", "'\\''"));
    add(value.replaceAll("'", "''"));
    for (const url of urlForms(value)) add(url);
  }
  const bytes = Buffer.from(secret, 'utf8');
  const hex = bytes.toString('hex');
  addEncoded(hex);
  addEncoded(hex.toUpperCase());
  addEncoded(hex.replace(/../g, '%$&'));
  addEncoded(hex.toUpperCase().replace(/../g, '%$&'));
  for (const form of base64Forms(bytes, [0, 1, 2])) addEncoded(form);
  for (const form of wrappedBase64Forms(bytes)) addEncoded(form);
  for (const form of base64Forms(Buffer.from(secret, 'utf16le'), [0])) addEncoded(form);
  return [...forms];
}

/** The inside of `JSON.stringify(value)`. */
function jsonInner(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** `value` XML-escaped, with the named (`variant` 0), decimal (1) or hex (2) entities. */
function xmlEscape(value: string, variant: number): string {
  return value.replace(/[&<>"']/g, (char) => {
    const spellings = XML_ENTITIES[char] as readonly string[];
    return spellings[Math.min(variant, spellings.length - 1)] as string;
  });
}

/** `encodeURIComponent` and form encoding (`+` for space), with upper- and lower-case escapes. */
function urlForms(value: string): string[] {
  const component = encodeURIComponent(value);
  const form = new URLSearchParams({ v: value }).toString().slice(2);
  const lower = (text: string) => text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase());
  return [component, lower(component), form, lower(form)];
}

/**
 * base64 forms of `bytes` at each of `offsets` (bytes of other data before it), both alphabets:
 * the encoding up to the payload's end (padded and not) and the stable inner part.
 */
function base64Forms(bytes: Buffer, offsets: readonly number[]): string[] {
  const forms: string[] = [];
  for (const offset of offsets) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    // Character i holds bits [6i, 6i + 6): only those wholly inside the secret's bits are stable.
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    const toEnd = encoded.slice(first);
    for (const form of [toEnd, toEnd.replace(/=+$/, ''), encoded.slice(first, end)]) {
      forms.push(form, toBase64Url(form));
    }
  }
  return forms;
}

/** The base64 of `bytes` broken into lines (`\n` and `\r\n`), when it is longer than one line. */
function wrappedBase64Forms(bytes: Buffer): string[] {
  const whole = bytes.toString('base64');
  if (whole.length <= BASE64_LINE_COLUMNS) return [];
  const lines = whole.match(new RegExp(`.{1,${BASE64_LINE_COLUMNS}}`, 'g')) as string[];
  return [lines.join('\n'), lines.join('\r\n')];
}

function toBase64Url(base64: string): string {
  return base64.replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}
