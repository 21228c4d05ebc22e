import { describe, expect, it } from 'vitest';
import { parseEgressLogLine } from './egress-log.js';

describe('parseEgressLogLine', () => {
  it('reads a denied request with the proxy address it came in on', () => {
    const line =
      'sandfleet-egress 1796156735.233 10.213.7.19 10.213.7.18 TCP_DENIED/403 100 3406 GET 192.0.2.2 18777 http://192.0.2.2:18777/';
    expect(parseEgressLogLine(line)).toEqual({
      proxyAddress: '10.213.7.18',
      entry: {
        ts: new Date(1796156735233).toISOString(),
        allowed: false,
        result: 'TCP_DENIED',
        httpStatus: 403,
        method: 'GET',
        host: '192.0.2.2',
        port: 18777,
        url: 'http://192.0.2.2:18777/',
        bytesSent: 100,
        bytesReceived: 3406,
        client: '10.213.7.19',
      },
    });
  });

  it('reads an allowed tunnel and decodes percent-encoded fields', () => {
    const parsed = parseEgressLogLine(
      'sandfleet-egress 1.5 10.0.0.9 10.0.0.2 TCP_TUNNEL/200 517 4096 CONNECT registry.npmjs.org 443 registry.npmjs.org:443\n',
    );
    expect(parsed?.entry).toMatchObject({
      allowed: true,
      method: 'CONNECT',
      host: 'registry.npmjs.org',
      port: 443,
    });
    expect(
      parseEgressLogLine('sandfleet-egress 1.5 a b TCP_MISS/200 1 2 GET h - http://h/a%20b')?.entry,
    ).toMatchObject({ port: null, url: 'http://h/a b' });
  });

  it('ignores lines that are not access-log lines', () => {
    expect(parseEgressLogLine('2026/12/01 20:25:09| Squid Cache started')).toBeUndefined();
    expect(parseEgressLogLine('sandfleet-egress too short')).toBeUndefined();
  });
});
