/**
 * Turns what ffmpeg prints on stderr into errors a person can act on. Messages and context carry
 * the masked URL only (lib/rtsp-url.ts); ffmpeg lines are masked before they are kept.
 */
import { GatewayError, ErrorContext } from '../errors';
import { maskUrlsInText } from '../rtsp-url';

export type IngestErrorCode =
  | 'RTSP_UNAUTHORIZED'
  | 'RTSP_NOT_FOUND'
  | 'RTSP_REFUSED'
  | 'RTSP_TIMEOUT'
  | 'RTSP_UNREACHABLE'
  | 'RTSP_UNSUPPORTED_CODEC'
  | 'RTSP_STALLED'
  | 'RTSP_ENDED'
  | 'RTSP_FAILED';

export class IngestError extends GatewayError {
  declare readonly code: IngestErrorCode;
  constructor(code: IngestErrorCode, message: string, context: ErrorContext = {}) {
    super(code, message, context);
  }
}

interface Rule {
  code: IngestErrorCode;
  test: RegExp;
  advice: string;
}

const RULES: Rule[] = [
  { code: 'RTSP_UNAUTHORIZED', test: /401 Unauthorized|Unauthorized|403 Forbidden/i, advice: 'the camera refused the user name or password: check the credentials' },
  { code: 'RTSP_NOT_FOUND', test: /\b404 Not Found|454 Session Not Found|Stream not found/i, advice: 'the camera has no stream at this path: check the URL path' },
  { code: 'RTSP_REFUSED', test: /Connection refused/i, advice: 'nothing listens at this address/port: check host, port and that the camera runs' },
  { code: 'RTSP_UNREACHABLE', test: /No route to host|Network is unreachable|Name or service not known|Temporary failure in name resolution|Invalid argument/i, advice: 'the camera address cannot be reached: check the host name and network' },
  { code: 'RTSP_TIMEOUT', test: /timed out|Connection timed out|timeout/i, advice: 'the camera did not answer in time: check the network or try the other RTSP transport' },
  { code: 'RTSP_UNSUPPORTED_CODEC', test: /Could not find codec parameters|unsupported codec|Codec .* is not supported|not currently supported in container/i, advice: 'the camera stream cannot be sent as is: switch the camera to H.264/H.265 or enable transcoding' },
];

/** Classifies ffmpeg's stderr tail. Returns RTSP_FAILED with the last lines when nothing matches. */
export function classifyFfmpegFailure(stderrLines: string[], context: ErrorContext): IngestError {
  const text = maskUrlsInText(stderrLines.join('\n'));
  for (const rule of RULES) {
    const line = stderrLines.map(maskUrlsInText).find((l) => rule.test.test(l));
    if (line) return new IngestError(rule.code, `${rule.advice} (ffmpeg: ${line.trim()})`, context);
  }
  const tail = text.split('\n').filter((l) => l.trim()).slice(-3).join(' | ');
  return new IngestError('RTSP_FAILED', `ffmpeg stopped${tail ? `: ${tail}` : ''}`, context);
}
