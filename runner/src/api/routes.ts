// Every route of the runner's API with its input and output schemas: the one contract.
// The runner registers these exact schemas on its fastify routes (a test holds it to that);
// the site imports the types only. Errors are always `errorBody` (common.ts).
import type { z } from 'zod';
import { broadcastBody, controlReply, exportQuery, exportReply, extendLearnersBody, gateBody, instructorSnapshot, resetBody, targetBody } from './instructor.ts';
import { labList, labParams, publicLab } from './labs.ts';
import {
  applyBody, applyReply, checkBody, checkReply, hintBody, hintReply, liveBody, liveReply, progressReply, sessionParams, sessionReply,
  solveReply, startSessionBody, stepParams, terminalQuery, terminalsReply,
} from './sessions.ts';
import { healthReply, runnerStatus } from './status.ts';
import {
  extendWorkshopBody, joinBody, joinReply, learnerParams, meReply, nodeShellsBody, nodeShellsReply, saveEditorBody, saveEditorReply, workshopStatusReply, workshopTimes,
} from './workshop.ts';

export interface RouteContract {
  method: 'GET' | 'POST' | 'DELETE';
  url: string;
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  /** Replies by HTTP status; none for 204 and the WebSocket. */
  response: Partial<Record<200 | 201 | 202, z.ZodType>>;
}

export const routes = {
  health: { method: 'GET', url: '/api/health', response: { 200: healthReply } },
  status: { method: 'GET', url: '/api/status', response: { 200: runnerStatus } },
  labs: { method: 'GET', url: '/api/labs', response: { 200: labList } },
  lab: { method: 'GET', url: '/api/labs/:labId', params: labParams, response: { 200: publicLab } },
  /** 201: ready within a few seconds; 202: still starting, poll `session`. */
  startSession: { method: 'POST', url: '/api/sessions', body: startSessionBody, response: { 201: sessionReply, 202: sessionReply } },
  session: { method: 'GET', url: '/api/sessions/:id', params: sessionParams, response: { 200: sessionReply } },
  endSession: { method: 'DELETE', url: '/api/sessions/:id', params: sessionParams, response: {} },
  apply: { method: 'POST', url: '/api/sessions/:id/apply', params: sessionParams, body: applyBody, response: { 200: applyReply } },
  live: { method: 'POST', url: '/api/sessions/:id/live', params: sessionParams, body: liveBody, response: { 200: liveReply } },
  check: { method: 'POST', url: '/api/sessions/:id/steps/:stepId/check', params: stepParams, body: checkBody, response: { 200: checkReply } },
  hint: { method: 'POST', url: '/api/sessions/:id/steps/:stepId/hint', params: stepParams, body: hintBody, response: { 200: hintReply } },
  solve: { method: 'POST', url: '/api/sessions/:id/steps/:stepId/solve', params: stepParams, response: { 200: solveReply } },
  reset: { method: 'POST', url: '/api/sessions/:id/reset', params: sessionParams, response: { 200: sessionReply } },
  progress: { method: 'GET', url: '/api/sessions/:id/progress', params: sessionParams, response: { 200: progressReply } },
  terminals: { method: 'GET', url: '/api/sessions/:id/terminals', params: sessionParams, response: { 200: terminalsReply } },
  /** WebSocket: the terminal protocol (terminal-protocol.ts). */
  terminal: { method: 'GET', url: '/api/sessions/:id/terminal', params: sessionParams, querystring: terminalQuery, response: {} },
  saveEditor: { method: 'POST', url: '/api/sessions/:id/editor', params: sessionParams, body: saveEditorBody, response: { 200: saveEditorReply } },
  // Workshops (api/workshop.ts): join and `me` for learners; the rest for the instructor.
  join: { method: 'POST', url: '/api/workshop/join', body: joinBody, response: { 200: joinReply } },
  me: { method: 'GET', url: '/api/workshop/me', response: { 200: meReply } },
  workshop: { method: 'GET', url: '/api/workshop', response: { 200: workshopStatusReply } },
  extendWorkshop: { method: 'POST', url: '/api/workshop/extend', body: extendWorkshopBody, response: { 200: workshopTimes } },
  endWorkshop: { method: 'POST', url: '/api/workshop/end', response: { 200: workshopTimes } },
  learnerNodeShells: { method: 'POST', url: '/api/workshop/learners/:learnerId/node-shells', params: learnerParams, body: nodeShellsBody, response: { 200: nodeShellsReply } },
  /** Server-sent events (instructor.ts): the room's snapshot on connect and after each change. Instructor only, as is all of /api/instructor. */
  instructorEvents: { method: 'GET', url: '/api/instructor/events', response: {} },
  instructorSnapshot: { method: 'GET', url: '/api/instructor/snapshot', response: { 200: instructorSnapshot } },
  instructorGate: { method: 'POST', url: '/api/instructor/gate', body: gateBody, response: { 200: controlReply } },
  instructorBroadcast: { method: 'POST', url: '/api/instructor/broadcast', body: broadcastBody, response: { 200: controlReply } },
  instructorExtend: { method: 'POST', url: '/api/instructor/extend', body: extendLearnersBody, response: { 200: controlReply } },
  instructorEnd: { method: 'POST', url: '/api/instructor/end', body: targetBody, response: { 200: controlReply } },
  instructorReset: { method: 'POST', url: '/api/instructor/reset', body: resetBody, response: { 200: controlReply } },
  /** format=csv answers text/csv with the same rows. */
  instructorExport: { method: 'GET', url: '/api/instructor/export', querystring: exportQuery, response: { 200: exportReply } },
  /** Server-sent events for learners' pages: the instructor's broadcast (or null) on connect and on each change. */
  broadcast: { method: 'GET', url: '/api/broadcast', response: {} },
} as const satisfies Record<string, RouteContract>;

export type RouteName = keyof typeof routes;
type ReplySchemas<K extends RouteName> = (typeof routes)[K]['response'];
/** What a route answers on success (the site's client types come from here). */
export type Reply<K extends RouteName> = z.output<ReplySchemas<K>[keyof ReplySchemas<K>] & z.ZodType>;
/** What a route takes as its JSON body. */
export type Body<K extends RouteName> = (typeof routes)[K] extends { body: infer B extends z.ZodType } ? z.input<B> : never;

/** The fastify schema for a route: its contract without method and url. */
export function routeSchema<K extends RouteName>(name: K): Omit<(typeof routes)[K], 'method' | 'url'> {
  const { method: _m, url: _u, ...schema } = routes[name];
  return schema;
}
