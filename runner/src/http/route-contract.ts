// Holds the app to the API contract: every /api route must be one of api/routes.ts, with
// exactly its schemas, or buildApp fails at once (a route added without its contract, or a
// contract entry changed without the route, never reaches a learner).
import type { FastifyInstance, RouteOptions } from 'fastify';
import { routes, type RouteContract } from '../api/routes.ts';

const PARTS = ['params', 'querystring', 'body'] as const;

function contractFor(method: string, url: string): RouteContract | undefined {
  const path = url.length > 1 ? url.replace(/\/$/, '') : url;
  return Object.values(routes).find((r: RouteContract) => r.method === method && r.url === path);
}

/** Why this route breaks the contract, or undefined when it keeps it. */
export function contractBreach(route: Pick<RouteOptions, 'method' | 'url' | 'schema'>): string | undefined {
  const methods = [route.method].flat().filter((m) => m !== 'HEAD');
  if (!route.url.startsWith('/api/')) return undefined;
  for (const method of methods) {
    const c = contractFor(method, route.url);
    if (!c) return `${method} ${route.url} is not in the API contract (runner/src/api/routes.ts)`;
    const schema = (route.schema ?? {}) as Partial<Record<string, unknown>>;
    for (const part of PARTS) {
      if (schema[part] !== c[part]) return `${method} ${route.url}: its ${part} schema is not the contract's`;
    }
    const replies = (schema.response ?? {}) as Record<string, unknown>;
    const codes = new Set([...Object.keys(replies), ...Object.keys(c.response)]);
    for (const code of codes) {
      if (replies[code] !== (c.response as Record<string, unknown>)[code]) return `${method} ${route.url}: its ${code} reply schema is not the contract's`;
    }
  }
  return undefined;
}

export function enforceContract(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const breach = contractBreach(route);
    if (breach) throw new Error(breach);
  });
}
