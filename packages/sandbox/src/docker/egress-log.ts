import type { SandboxEgressEntry } from '../sandbox.js';

/** First word of the proxy's access-log lines (infra/images/egress-proxy/entrypoint.sh). */
const TAG = 'sandfleet-egress';

/** The proxy's address on the step network the request came in on, and the entry. */
export interface EgressLogLine {
  proxyAddress: string;
  entry: SandboxEgressEntry;
}

/**
 * Parses one access-log line of the egress proxy (logformat `sandfleet`:
 * `sandfleet-egress %ts.%03tu %>a %>la %Ss/%03>Hs %>st %<st %rm %#>rd %>rP %#ru`); undefined for
 * any other line. Host and URL are percent-encoded by Squid, so fields never contain spaces.
 */
export function parseEgressLogLine(line: string): EgressLogLine | undefined {
  const fields = line.trim().split(' ');
  if (fields.length !== 11 || fields[0] !== TAG) return undefined;
  const [, time, client, local, status, sent, received, method, host, port, url] = fields;
  const [result = '', code = ''] = (status ?? '').split('/');
  const seconds = Number(time);
  if (!client || !local || !Number.isFinite(seconds)) return undefined;
  return {
    proxyAddress: local,
    entry: {
      ts: new Date(seconds * 1000).toISOString(),
      allowed: !result.includes('DENIED'),
      result,
      httpStatus: toInt(code) ?? 0,
      method: method ?? '-',
      host: decode(host),
      port: toInt(port),
      url: decode(url),
      bytesSent: toInt(sent) ?? 0,
      bytesReceived: toInt(received) ?? 0,
      client,
    },
  };
}

function toInt(text: string | undefined): number | null {
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : null;
}

function decode(text: string | undefined): string {
  if (text === undefined || text === '-') return '';
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
