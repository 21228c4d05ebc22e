import { describe, expect, it } from 'vitest';
import { crossSiteEvidence, sameOriginProblem } from './request-origin.js';

const HOST = 'api.example:8080';

describe('sameOriginProblem (cookie-authenticated changes)', () => {
  it('accepts the API’s own Origin, Sec-Fetch-Site: same-origin, or X-Sandfleet-Request', () => {
    expect(sameOriginProblem({ origin: 'https://API.example:8080' }, HOST)).toBeUndefined();
    expect(sameOriginProblem({ origin: 'null', 'sec-fetch-site': 'same-origin' }, HOST)).toBeUndefined();
    expect(sameOriginProblem({ 'x-sandfleet-request': '1' }, HOST)).toBeUndefined();
  });

  it('refuses a foreign Origin, a cross-site or same-site fetch, and a request with no proof', () => {
    expect(sameOriginProblem({ origin: 'https://evil.example' }, HOST)).toMatch(/^Origin https:\/\/evil/);
    expect(sameOriginProblem({ origin: 'https://api.example:8443' }, HOST)).toMatch(/^Origin/);
    expect(sameOriginProblem({ origin: 'https://evil.example', 'x-sandfleet-request': '1' }, HOST)).toMatch(
      /^Origin/,
    );
    expect(sameOriginProblem({ 'sec-fetch-site': 'cross-site' }, HOST)).toBe('Sec-Fetch-Site is cross-site');
    expect(sameOriginProblem({ 'sec-fetch-site': 'same-site', origin: `https://${HOST}` }, HOST)).toBe(
      'Sec-Fetch-Site is same-site',
    );
    expect(sameOriginProblem({}, HOST)).toMatch(/X-Sandfleet-Request/);
    expect(sameOriginProblem({ origin: 'null' }, HOST)).toMatch(/X-Sandfleet-Request/);
    expect(sameOriginProblem({ origin: 'not a url' }, HOST)).toMatch(/^Origin/);
  });
});

describe('crossSiteEvidence (bearer, sign-in, no-auth)', () => {
  it('sees nothing in a request without browser headers, and names a foreign Origin', () => {
    expect(crossSiteEvidence({}, HOST)).toBeUndefined();
    expect(crossSiteEvidence({ 'sec-fetch-site': 'none' }, HOST)).toBeUndefined();
    expect(crossSiteEvidence({ origin: 'http://evil.example' }, HOST)).toMatch(/evil\.example/);
  });
});
