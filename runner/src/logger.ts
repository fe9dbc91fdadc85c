import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';

/** Query parameters and cookies whose values are secrets (runner token, learner and instructor credentials). */
const SECRET_PARAMS = /([?&](?:token|code|key|secret|credential)=)[^&"\s\\]+/gi;
const SECRET_COOKIES = /((?:svclab_[a-z0-9_]*|token)=)[^;"\s\\]+/gi;
const SECRET_HEADERS = /("(?:authorization|cookie|set-cookie|x-svclab-token)":\s*")(?:\\.|[^"\\])*"/gi;

/**
 * Removes secrets from one finished log line: any value in `secrets()` wherever it
 * appears, plus token-like query parameters, svclab cookies and auth headers.
 * Applied to the serialized line, so no serializer or call site can leak one.
 */
export function redactLine(line: string, secrets: readonly string[] = []): string {
  let out = line;
  for (const s of secrets) if (s.length >= 8) out = out.split(s).join('[redacted]');
  return out.replace(SECRET_HEADERS, '$1[redacted]"').replace(SECRET_PARAMS, '$1[redacted]').replace(SECRET_COOKIES, '$1[redacted]');
}

export interface LoggerOptions {
  level?: string;
  /** A file descriptor (stderr by default) or a file path; files are created with mode 0600. */
  destination?: number | string;
  /** Values never to write (the runner token, learner credentials); read at each line, so later ones count. */
  secrets?: () => readonly string[];
}

/** Structured JSON logs to a file descriptor (stderr by default), so stdout stays for the CLI's own lines. */
export function makeLogger(opts: LoggerOptions = {}): Logger {
  const dest = opts.destination ?? 2;
  if (typeof dest === 'string') mkdirSync(dirname(dest), { recursive: true, mode: 0o700 });
  const secrets = opts.secrets ?? (() => []);
  return pino(
    {
      level: opts.level ?? process.env.SVCLAB_LOG_LEVEL ?? 'info',
      base: { app: 'svclab' },
      hooks: { streamWrite: (s) => redactLine(s, secrets()) },
    },
    typeof dest === 'string' ? pino.destination({ dest, mode: 0o600, sync: false }) : pino.destination(dest),
  );
}
