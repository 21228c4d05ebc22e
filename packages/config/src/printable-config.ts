const CREDENTIAL_FIELD = /(tokens?|passwords?)$/i;

const isSet = (value: unknown) => value !== undefined && !(Array.isArray(value) && value.length === 0);

function withoutPassword(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) return value;
  try {
    const url = new URL(value);
    if (url.password === '') return value;
    url.password = '***';
    return url.toString();
  } catch {
    return value;
  }
}

/**
 * A copy of a parsed config fit for logs and `sandfleet doctor`: fields named `…token(s)` or
 * `…password(s)` read `***` when set (an empty list stays `[]`), and passwords in URLs (`postgres://u:pw@h/db`) are masked.
 */
export function printableConfig(config: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => {
      if (CREDENTIAL_FIELD.test(key) && isSet(value)) return [key, '***'];
      return [key, typeof value === 'string' ? withoutPassword(value) : value];
    }),
  );
}
