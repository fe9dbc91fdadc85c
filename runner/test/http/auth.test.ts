import { describe, expect, it } from 'vitest';
import { RunnerError } from '../../src/errors.ts';
import { checkOrigin, checkToken, parsePublicOrigin, servedOrigin, siteOrigins, tokenFrom } from '../../src/http/auth.ts';

describe('token', () => {
  it('prefers the Authorization header, then the query, then the cookie', () => {
    expect(tokenFrom({ authorization: 'Bearer a', query: 'b', cookie: 'c' })).toBe('a');
    expect(tokenFrom({ query: 'b', cookie: 'c' })).toBe('b');
    expect(tokenFrom({ cookie: 'c' })).toBe('c');
    expect(tokenFrom({})).toBeUndefined();
  });

  it('rejects a missing and a wrong token with distinct codes', () => {
    expect(() => checkToken('secret', undefined)).toThrow(expect.objectContaining({ code: 'TOKEN_MISSING', httpStatus: 401 }));
    expect(() => checkToken('secret', 'secreT')).toThrow(expect.objectContaining({ code: 'TOKEN_WRONG' }));
    expect(() => checkToken('secret', 'secret-longer')).toThrow(RunnerError);
    expect(() => checkToken('secret', 'secret')).not.toThrow();
  });
});

describe('origin', () => {
  it('allows the site under its loopback names only', () => {
    const allowed = siteOrigins('127.0.0.1', 4173);
    expect(allowed).toEqual(['http://127.0.0.1:4173', 'http://localhost:4173', 'http://[::1]:4173']);
    expect(() => checkOrigin(allowed, 'http://localhost:4173')).not.toThrow();
    for (const bad of ['http://evil.example', 'http://localhost:4174', undefined, 'null']) {
      expect(() => checkOrigin(allowed, bad)).toThrow(expect.objectContaining({ code: 'ORIGIN_FORBIDDEN', httpStatus: 403 }));
    }
  });
});

describe('public origins (an Ingress or a Service in front of the runner)', () => {
  it('takes an origin as a browser writes it, and its host is then served', () => {
    expect(parsePublicOrigin('https://Labs.Example.org')).toBe('https://labs.example.org');
    expect(parsePublicOrigin('http://svclab.svclab.svc:80')).toBe('http://svclab.svclab.svc');
    expect(parsePublicOrigin('https://labs.example.org:8443')).toBe('https://labs.example.org:8443');
    const allowed = [...siteOrigins('0.0.0.0', 8080), parsePublicOrigin('https://labs.example.org'), parsePublicOrigin('http://svclab.svclab.svc')];
    expect(servedOrigin(allowed, 'labs.example.org')?.origin).toBe('https://labs.example.org');
    expect(servedOrigin(allowed, 'svclab.svclab.svc')?.origin).toBe('http://svclab.svclab.svc');
    for (const foreign of ['labs.example.org:8443', 'evil.example', 'labs.example.org.evil.example', 'svclab.svclab.svc:8080']) expect(servedOrigin(allowed, foreign), foreign).toBeUndefined();
    expect(() => checkOrigin(allowed, 'https://labs.example.org')).not.toThrow();
    expect(() => checkOrigin(allowed, 'http://labs.example.org')).toThrow(expect.objectContaining({ code: 'ORIGIN_FORBIDDEN' }));
  });

  it('refuses what is not an origin, saying what and how', () => {
    for (const bad of ['labs.example.org', 'https://labs.example.org/path', 'https://labs.example.org/', 'https://u:p@labs.example.org', 'ftp://labs.example.org', 'https://labs.example.org?x=1', '']) {
      expect(() => parsePublicOrigin(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', hint: expect.stringContaining('--public-origin https://') }));
    }
  });
});
