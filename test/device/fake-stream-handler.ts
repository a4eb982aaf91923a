/** A StreamHandler stand-in that records what signalling asks of the media side. */
import { GatewayError } from '../../lib/errors';
import { StreamAnswer, StreamHandler, StreamRequest } from '../../lib/session/stream-contract';

export class FakeStreamHandler implements StreamHandler {
  prepared: StreamRequest[] = [];
  started: string[] = [];
  stopped: Array<{ callId: string; reason: string }> = [];
  aborted: string[] = [];
  delayMs = 0;
  failWith?: Error;
  answer: StreamAnswer = { localIp: '127.0.0.1', localPort: 31000 };

  async prepare(request: StreamRequest, signal: AbortSignal): Promise<StreamAnswer> {
    this.prepared.push(request);
    signal.addEventListener('abort', () => this.aborted.push(request.callId));
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) throw this.failWith;
    return this.answer;
  }

  start(callId: string): void {
    this.started.push(callId);
  }

  stop(callId: string, reason: string): void {
    this.stopped.push({ callId, reason });
  }
}

export function busyError(): GatewayError {
  return new GatewayError('MEDIA_BUSY', 'camera busy', { sipStatus: 486 });
}
