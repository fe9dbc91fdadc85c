// Zod schemas on fastify routes: a type provider (handlers see the parsed input's type and
// must return the output's), a validator compiler (bad input is a 400 BAD_REQUEST saying
// which field and why, never a 500) and a serializer compiler (a reply that drifted from
// the contract is a bug: INTERNAL, logged). No package pairs fastify 5 with zod 4 here;
// this is the dozen lines such a package holds.
import type { FastifySchemaCompiler, FastifySerializerCompiler, FastifyTypeProvider } from 'fastify';
import type { z } from 'zod';
import { RunnerError } from '../errors.ts';

export interface ZodTypeProvider extends FastifyTypeProvider {
  validator: this['schema'] extends z.ZodType ? z.output<this['schema']> : unknown;
  serializer: this['schema'] extends z.ZodType ? z.input<this['schema']> : unknown;
}

const PART_NAMES: Record<string, string> = { body: 'request body', params: 'address', querystring: 'query string', headers: 'request headers' };

/** "The request body is not valid: labId: expected string, received undefined." */
export function describeIssues(what: string, error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue?.path.length ? `${issue.path.join('.')}: ` : '';
  return `The ${what} is not valid: ${field}${issue?.message ?? 'invalid'}.`;
}

export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => (data: unknown) => {
  const r = schema.safeParse(data);
  if (r.success) return { value: r.data };
  const what = PART_NAMES[httpPart ?? ''] ?? 'request';
  return { error: new RunnerError('BAD_REQUEST', { message: describeIssues(what, r.error), details: r.error.issues }) };
};

export const zodSerializerCompiler: FastifySerializerCompiler<z.ZodType> = ({ schema, method, url }) => (data: unknown) => {
  const r = schema.safeParse(data);
  if (!r.success) throw new RunnerError('INTERNAL', { message: `The reply of ${method} ${url} does not match the API contract: ${describeIssues('reply', r.error)}`, details: r.error.issues });
  return JSON.stringify(r.data);
};
