/**
 * A cheap "is the camera still there" check for cameras nobody is pulling: a TCP connect to the
 * RTSP port and one OPTIONS request (RFC 2326 §10.1). Any RTSP status line, even 401, proves a live
 * RTSP server; no ffprobe, no media. OPTIONS needs no authentication, so no credentials are sent:
 * the request URI is the URL without its userinfo.
 */
import * as net from 'node:net';

export type LivenessFailure = 'refused' | 'reset' | 'timeout' | 'unreachable' | 'garbage' | 'closed' | 'bad-url';

export type LivenessResult =
  | { alive: true; status: number; elapsedMs: number }
  | { alive: false; reason: LivenessFailure; detail: string; elapsedMs: number };

export interface RtspLivenessOptions {
  /** Whole check (connect + answer) bound. Default 3000 ms. */
  timeoutMs?: number;
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 3000;
/** A status line longer than this without CRLF is not RTSP. */
const MAX_STATUS_LINE = 512;
const RTSP_STATUS_LINE = /^RTSP\/1\.\d (\d{3})(?: |$)/;

/** host, port (default 554, RFC 2326 §3.2) and the request URI without userinfo. */
export function rtspTarget(url: string): { host: string; port: number; uri: string } | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.protocol !== 'rtsp:' || !u.hostname) return undefined;
  u.username = '';
  u.password = '';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return { host, port: u.port ? Number(u.port) : 554, uri: u.toString() };
}

function failureFromError(err: NodeJS.ErrnoException): LivenessFailure {
  switch (err.code) {
    case 'ECONNREFUSED': return 'refused';
    case 'ECONNRESET': case 'EPIPE': return 'reset';
    case 'ETIMEDOUT': return 'timeout';
    default: return 'unreachable';
  }
}

/** Sends OPTIONS to the camera of `url`; never rejects. */
export function checkRtspLiveness(url: string, options: RtspLivenessOptions = {}): Promise<LivenessResult> {
  const started = Date.now();
  const target = rtspTarget(url);
  // The URL itself stays out of the detail: maskRtspUrl only knows rtsp:// userinfo.
  if (!target) return Promise.resolve({ alive: false, reason: 'bad-url', detail: `not an rtsp:// URL (${/^[a-z][a-z0-9+.-]*:/i.exec(url)?.[0] ?? 'no scheme'})`, elapsedMs: 0 });
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const userAgent = options.userAgent ?? 'node-red-contrib-gb28181 liveness';
  return new Promise((resolve) => {
    let settled = false;
    let received = '';
    const socket = net.connect({ host: target.host, port: target.port });
    const finish = (result: LivenessResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners();
      // Keep an error listener: a late RST after destroy() must not become an uncaught error.
      socket.on('error', () => undefined);
      socket.destroy();
      resolve(result);
    };
    const dead = (reason: LivenessFailure, detail: string) => finish({ alive: false, reason, detail, elapsedMs: Date.now() - started });
    const timer = setTimeout(() => dead('timeout', `no answer from ${target.host}:${target.port} within ${timeoutMs} ms`), timeoutMs);
    socket.setNoDelay(true);
    socket.on('connect', () => {
      // RFC 2326 §10.1 OPTIONS; CSeq is mandatory in every request (§12.17).
      socket.write(`OPTIONS ${target.uri} RTSP/1.0\r\nCSeq: 1\r\nUser-Agent: ${userAgent}\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const eol = received.indexOf('\r\n');
      const line = eol >= 0 ? received.slice(0, eol) : received;
      // Judge as soon as the bytes so far cannot begin a status line, or the line is complete.
      if (!'RTSP/1.'.startsWith(line.slice(0, 7)) || eol >= 0 || received.length > MAX_STATUS_LINE) {
        const m = RTSP_STATUS_LINE.exec(line);
        if (m) finish({ alive: true, status: Number(m[1]), elapsedMs: Date.now() - started });
        else dead('garbage', `not an RTSP answer from ${target.host}:${target.port}: ${JSON.stringify(line.slice(0, 40))}`);
      }
    });
    socket.on('error', (err: NodeJS.ErrnoException) => dead(failureFromError(err), `${target.host}:${target.port}: ${err.code ?? err.message}`));
    socket.on('close', () => dead('closed', `${target.host}:${target.port} closed the connection without an answer`));
  });
}
