/**
 * The logger every lib/ class takes by injection. Node-RED nodes pass an adapter over
 * `node.log/warn/error`; the headless runner passes the console logger below.
 * Context objects carry identifiers (camera, channel, call-id), never secrets.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type LogContext = Record<string, unknown>;

export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  error(message: string, context?: LogContext): void;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A logger that drops everything: the default where a caller passes none. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

function formatContext(context?: LogContext): string {
  if (!context) return '';
  const parts = Object.entries(context)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length ? ` (${parts.join(' ')})` : '';
}

/** Writes `<ISO time> <LEVEL> <message> (k=v ...)` lines to stderr at or above `level`. */
export function consoleLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l + '\n')): Logger {
  const make = (l: LogLevel) => (message: string, context?: LogContext): void => {
    if (ORDER[l] < ORDER[level]) return;
    write(`${new Date().toISOString()} ${l.toUpperCase()} ${message}${formatContext(context)}`);
  };
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

/** Prefixes every message, e.g. with a camera name, so shared classes log who they work for. */
export function childLogger(parent: Logger, prefix: string): Logger {
  return {
    debug: (m, c) => parent.debug(`${prefix} ${m}`, c),
    info: (m, c) => parent.info(`${prefix} ${m}`, c),
    warn: (m, c) => parent.warn(`${prefix} ${m}`, c),
    error: (m, c) => parent.error(`${prefix} ${m}`, c),
  };
}
