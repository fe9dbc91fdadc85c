import { describe, expect, it } from 'vitest';
import { RunnerError } from '../../src/errors.ts';
import { checkOrigin, checkToken, siteOrigins, tokenFrom } from '../../src/http/auth.ts';

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
