/**
 * Typed ONVIF failures. The `onvif` package reports everything as a plain Error with a free-text
 * message; we sort them into the few causes a user can act on (credentials, address, camera too slow)
 * so a node status and a log line say which one it is.
 */
import { ErrorContext, GatewayError } from '../errors';

export type OnvifErrorCode =
  | 'ONVIF_AUTH' // wrong or missing credentials (ONVIF Core §5.12.2: ter:NotAuthorized, HTTP 400/401)
  | 'ONVIF_REFUSED' // nothing listens on the ONVIF port
  | 'ONVIF_TIMEOUT' // no answer within our bound
  | 'ONVIF_UNREACHABLE' // host unknown or no route
  | 'ONVIF_FAULT' // the camera answered with a SOAP fault (bad argument, unsupported action)
  | 'ONVIF_BAD_RESPONSE' // the port answers, but not ONVIF SOAP (a web UI on port 80, say)
  | 'ONVIF_NO_PTZ' // a PTZ command for a fixed camera
  | 'ONVIF_UNKNOWN_PRESET' // a preset number the camera does not have
  | 'ONVIF_CLOSED'; // the camera object was closed

export class OnvifError extends GatewayError {
  declare readonly code: OnvifErrorCode;

  constructor(code: OnvifErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(code, message, context, options);
  }
}

/** Sorts a raw failure from the `onvif` package (or a Node socket) into an OnvifError. */
export function classifyOnvifFailure(err: unknown, action: string, context: ErrorContext): OnvifError {
  if (err instanceof OnvifError) return err;
  const e = err instanceof Error ? err : new Error(String(err));
  const sysCode = (e as NodeJS.ErrnoException).code;
  const text = e.message;
  const lower = text.toLowerCase();
  const ctx = { ...context, action };
  if (sysCode === 'ECONNREFUSED') return new OnvifError('ONVIF_REFUSED', `${action}: connection refused at ${String(context.peer ?? 'camera')} (is ONVIF enabled, is the port right?)`, ctx, { cause: e });
  if (sysCode === 'ENOTFOUND' || sysCode === 'EHOSTUNREACH' || sysCode === 'ENETUNREACH' || sysCode === 'EAI_AGAIN') {
    return new OnvifError('ONVIF_UNREACHABLE', `${action}: camera unreachable (${sysCode})`, ctx, { cause: e });
  }
  if (sysCode === 'ETIMEDOUT' || lower.includes('network timeout') || lower.includes('timed out')) {
    return new OnvifError('ONVIF_TIMEOUT', `${action}: no answer from the camera in time`, ctx, { cause: e });
  }
  if (lower.includes('notauthorized') || lower.includes('not authorized') || lower.includes('unauthorized') || lower.includes('authentication failed') || lower.includes('sender not authorized')) {
    return new OnvifError('ONVIF_AUTH', `${action}: the camera refused the ONVIF credentials (wrong user name or password)`, ctx, { cause: e });
  }
  if (lower.startsWith('onvif soap fault')) return new OnvifError('ONVIF_FAULT', `${action}: camera fault: ${text.replace(/^ONVIF SOAP Fault:\s*/i, '')}`, ctx, { cause: e });
  if (lower.includes('wrong onvif soap response') || lower.includes('non-whitespace') || lower.includes('unexpected')) {
    return new OnvifError('ONVIF_BAD_RESPONSE', `${action}: the port does not answer ONVIF SOAP`, ctx, { cause: e });
  }
  // The package reads replies by fixed paths; a reply without the expected elements throws a TypeError there.
  if (e instanceof TypeError) return new OnvifError('ONVIF_BAD_RESPONSE', `${action}: the camera's answer lacks the expected elements`, ctx, { cause: e });
  if (sysCode === 'ECONNRESET' || sysCode === 'EPIPE') return new OnvifError('ONVIF_UNREACHABLE', `${action}: connection reset by the camera`, ctx, { cause: e });
  return new OnvifError('ONVIF_FAULT', `${action}: ${text}`, ctx, { cause: e });
}

/** Short text for a node status or a log: which cause the user can act on. */
export function onvifProblemText(code: OnvifErrorCode | undefined): string {
  switch (code) {
    case 'ONVIF_AUTH':
      return 'ONVIF: wrong credentials';
    case 'ONVIF_REFUSED':
      return 'ONVIF: connection refused';
    case 'ONVIF_TIMEOUT':
      return 'ONVIF: no answer';
    case 'ONVIF_UNREACHABLE':
      return 'ONVIF: unreachable';
    case 'ONVIF_BAD_RESPONSE':
      return 'ONVIF: not an ONVIF port';
    case 'ONVIF_CLOSED':
      return 'ONVIF: closed';
    default:
      return 'ONVIF: error';
  }
}
