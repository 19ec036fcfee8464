/**
 * One JSON logger for every process (worker, webhook server, lab): pino, one object per line on stdout, with the
 * service name on every line. Secrets are redacted by key wherever they might sit in a logged object; the code
 * never logs them on purpose, this is the net under that rule.
 */
import pino, { type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values are never written, at the top level and one or two levels down. */
const SECRET_KEYS = [
  'password',
  'secret',
  'token',
  'apiKey',
  'authorization',
  'cookie',
  'privateKey',
  'clientKey',
  'bindPassword',
];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]).concat([
  'headers["authorization"]',
  'headers["x-hub-signature"]',
  'headers["webhook-signature"]',
  'headers["x-servicenow-signature"]',
]);

const LEVELS: readonly Level[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): Level {
  const raw = (env.GMSA_LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LEVELS as readonly string[]).includes(raw)) {
    throw new Error(`GMSA_LOG_LEVEL must be one of ${LEVELS.join(', ')} (got ${raw})`);
  }
  return raw as Level;
}

export function createLogger(opts: { service: string; level?: Level; destination?: DestinationStream }): Logger {
  return pino(
    {
      base: { service: opts.service },
      level: opts.level ?? logLevelFromEnv(),
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    opts.destination ?? pino.destination({ sync: true }),
  );
}

/** For library code whose caller gave no logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
