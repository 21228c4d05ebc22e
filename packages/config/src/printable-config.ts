const CREDENTIAL_FIELD = /(token|password)$/i;

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
 * A copy of a parsed config fit for logs and `sandfleet doctor`: fields named `…token` or
 * `…password` read `***` when set, and passwords in URLs (`postgres://u:pw@h/db`) are masked.
 */
export function printableConfig(config: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([key, value]) => {
      if (CREDENTIAL_FIELD.test(key) && value !== undefined) return [key, '***'];
      return [key, typeof value === 'string' ? withoutPassword(value) : value];
    }),
  );
}
