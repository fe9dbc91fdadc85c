// An app wired to fakes: the whole HTTP/WebSocket surface without docker.
import { pino } from 'pino';
import { FakeContainerEngine } from '../../src/engine/fake-container-engine.ts';
import { RunnerError } from '../../src/errors.ts';
import { buildApp, noClusterApply, type AppDeps, type LabsPort } from '../../src/http/app.ts';
import { FakePtyFactory } from '../../src/pty/fake-pty-factory.ts';
import { SessionManager, type SessionManagerDeps } from '../../src/sessions/session-manager.ts';

export const TEST_TOKEN = 'test-token-0123456789abcdef';

export const fakeLabs: LabsPort = {
  list: () => [{ id: '02-selectors-and-endpoints', title: { en: 'Selectors', zh: '选择器' }, summary: { en: 'Labels pick pods', zh: '标签选择 Pod' }, steps: 3 }],
  get(id) {
    if (id !== '02-selectors-and-endpoints') throw new RunnerError('LAB_UNKNOWN', { details: { id } });
    return { id, title: { en: 'Selectors', zh: '选择器' }, summary: { en: 'Labels pick pods', zh: '标签选择 Pod' }, steps: [{ id: 'observe', title: { en: 'Observe', zh: '观察' }, checks: [], hintCount: 1 }] };
  },
  hint(_lab, stepId, index) {
    if (stepId !== 'observe') throw new RunnerError('STEP_UNKNOWN');
    if (index > 0) throw new RunnerError('BAD_REQUEST', { message: 'This step has 1 hint.' });
    return { en: 'Look at the selector', zh: '看看 selector' };
  },
};

export async function fakeApp(overrides: Partial<AppDeps> = {}, sessionDeps: Partial<SessionManagerDeps> = {}) {
  const engine = new FakeContainerEngine();
  engine.addImage('svclab/workstation:abc');
  const ptys = new FakePtyFactory();
  const logger = pino({ level: 'silent' });
  let ids = 0;
  const sessions = new SessionManager({ engine, ptys, logger, workstationImage: async () => 'svclab/workstation:abc', newId: () => `s${++ids}`, ...sessionDeps });
  // inject() sends Host localhost:80.
  let origins: string[] = ['http://localhost:80'];
  const app = await buildApp({
    logger, token: TEST_TOKEN, allowedOrigins: () => origins, sessions, labs: fakeLabs,
    checks: { run: async () => ({ results: [], passed: true }) }, apply: noClusterApply, version: '0.0.0-test',
    ...overrides,
  });
  return { app, engine, ptys, sessions, setOrigins: (o: string[]) => { origins = o; } };
}
