// Kept while tests move to FakeShell (exec/fake-shell.ts).
export { FakeShell as FakeCommandRunner, type FakeResponder } from './fake-shell.ts';
