/**
 * RTSP URL helpers. Passwords never reach a log, a node status or flow JSON: every place that
 * shows a URL shows `maskRtspUrl(url)`.
 */
export interface RtspCredentials {
  username?: string;
  password?: string;
}

/** `rtsp://admin:secret@host/x` → `rtsp://admin:***@host/x`; leaves URLs without a password alone. */
export function maskRtspUrl(url: string): string {
  return url.replace(/^(rtsps?:\/\/)([^:@/]*):([^@/]*)@/i, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}

/** Splits credentials out of a URL, so they can be stored as Node-RED credentials. */
export function splitRtspCredentials(url: string): { url: string; credentials: RtspCredentials } {
  try {
    const u = new URL(url);
    const credentials: RtspCredentials = {};
    if (u.username) credentials.username = decodeURIComponent(u.username);
    if (u.password) credentials.password = decodeURIComponent(u.password);
    u.username = '';
    u.password = '';
    return { url: u.toString(), credentials };
  } catch {
    return { url, credentials: {} };
  }
}

/** Puts credentials back into a URL for ffmpeg; the result must never be logged. */
export function withRtspCredentials(url: string, credentials: RtspCredentials): string {
  if (!credentials.username && !credentials.password) return url;
  const u = new URL(url);
  if (credentials.username) u.username = encodeURIComponent(credentials.username);
  if (credentials.password) u.password = encodeURIComponent(credentials.password);
  return u.toString();
}

/** Hides the password part of any rtsp:// URL inside a longer text (an ffmpeg stderr line). */
export function maskUrlsInText(text: string): string {
  return text.replace(/(rtsps?:\/\/)([^:@/\s]*):([^@/\s]*)@/gi, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
}
