import { pino, type Logger } from 'pino';

/** Structured JSON logs to a file descriptor (stderr by default), so stdout stays for the CLI's own lines. */
export function makeLogger(opts: { level?: string; destination?: number | string } = {}): Logger {
  return pino({ level: opts.level ?? process.env.SVCLAB_LOG_LEVEL ?? 'info', base: { app: 'svclab' } }, pino.destination(opts.destination ?? 2));
}
