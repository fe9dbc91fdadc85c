import { readFileSync } from 'node:fs';

export const projectRoot = new URL('../../', import.meta.url).pathname.replace(/\/$/, '');

export function svclabVersion(): string {
  const pkg = JSON.parse(readFileSync(`${projectRoot}/package.json`, 'utf8')) as { version: string };
  return pkg.version;
}
