/**
 * A lib/ Logger over a Node-RED node's own log methods, typed structurally so lib/ needs no
 * Node-RED import. Context is appended as k=v; callers never put secrets in it.
 */
import { LogContext, Logger } from '../logger';

export interface NodeLogTarget {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug(message: string): void;
}

function line(message: string, context?: LogContext): string {
  if (!context) return message;
  const parts = Object.entries(context)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length ? `${message} (${parts.join(' ')})` : message;
}

export function nodeLogger(node: NodeLogTarget): Logger {
  return {
    debug: (m, c) => node.debug(line(m, c)),
    info: (m, c) => node.log(line(m, c)),
    warn: (m, c) => node.warn(line(m, c)),
    // lib/ errors are operational (a camera down, a platform refusing): node.error without a msg
    // would count as a flow error in Catch nodes, so they are logged as warnings.
    error: (m, c) => node.warn(line(m, c)),
  };
}
