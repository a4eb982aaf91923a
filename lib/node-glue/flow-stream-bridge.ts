/**
 * The StreamHandler a gb28181-device node gives its GbDevice when media is done by another node
 * (ps-rtp-sender) reached over a wire. prepare() sends the INVITE out as a message and waits for
 * a sender to answer through the device node; if no sender claims the request within a bound,
 * or the claimed answer does not come, prepare() rejects with a SIP status so GbDevice answers
 * the platform itself: the platform is never left waiting on a flow (issue #5).
 */
import { GatewayError } from '../errors';
import { StreamAnswer, StreamHandler, StreamRequest } from '../session/stream-contract';
import { InviteAnswer, StreamRequestMessage } from './flow-messages';

export interface FlowStreamBridgeOptions {
  /** Node id of the device node, copied into every message so the sender can answer. */
  deviceNodeId: string;
  /** Sends a message out of the device node's stream output. */
  send: (msg: StreamRequestMessage) => void;
  /** Which rtsp-source node serves a channel (from the channel messages the device received). */
  sourceNodeOf: (channelId: string) => string | undefined;
  /** How long a sender has to claim a request (default 5000 ms). */
  claimTimeoutMs?: number;
  /** How long a claimed request may take to be answered (default 9000 ms; below GbDevice's inviteTimeoutMs). */
  answerTimeoutMs?: number;
}

interface PendingInvite {
  request: StreamRequest;
  claimed: boolean;
  resolve: (a: StreamAnswer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class FlowStreamBridge implements StreamHandler {
  private readonly pending = new Map<string, PendingInvite>();
  /** Calls answered and not yet stopped: their channel, for ack/bye messages. */
  private readonly live = new Map<string, string>();
  private readonly claimTimeoutMs: number;
  private readonly answerTimeoutMs: number;

  constructor(private readonly o: FlowStreamBridgeOptions) {
    this.claimTimeoutMs = o.claimTimeoutMs ?? 5000;
    this.answerTimeoutMs = o.answerTimeoutMs ?? 9000;
  }

  prepare(request: StreamRequest, signal: AbortSignal): Promise<StreamAnswer> {
    const ctx = { callId: request.callId, channelId: request.channelId, deviceId: request.deviceId };
    if (this.pending.has(request.callId) || this.live.has(request.callId)) {
      return Promise.reject(new GatewayError('FLOW_DUPLICATE_CALL', `call ${request.callId} is already in progress`, { ...ctx, sipStatus: 500 }));
    }
    return new Promise<StreamAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        const p = this.pending.get(request.callId);
        if (!p) return;
        this.pending.delete(request.callId);
        const reason = p.claimed
          ? `the ps-rtp-sender did not answer within ${this.answerTimeoutMs} ms`
          : `no ps-rtp-sender took the stream request within ${this.claimTimeoutMs} ms (is one wired to output 1?)`;
        reject(new GatewayError('FLOW_NO_SENDER', reason, { ...ctx, sipStatus: 503 }));
      }, this.claimTimeoutMs);
      this.pending.set(request.callId, { request, claimed: false, resolve, reject, timer });
      signal.addEventListener('abort', () => {
        const p = this.pending.get(request.callId);
        if (!p) return;
        clearTimeout(p.timer);
        this.pending.delete(request.callId);
        reject(new GatewayError('FLOW_ABORTED', 'the INVITE was cancelled', { ...ctx, sipStatus: 487 }));
      }, { once: true });
      const sourceNodeId = this.o.sourceNodeOf(request.channelId);
      this.o.send({
        event: 'invite',
        deviceNodeId: this.o.deviceNodeId,
        claimWithinMs: this.claimTimeoutMs,
        ...(sourceNodeId ? { sourceNodeId } : {}),
        ...request,
      });
    });
  }

  /**
   * A sender takes the request: the answer bound replaces the claim bound. True for the first
   * claimer only (two senders wired to one device must not both pull the camera); false too when
   * the request is no longer pending.
   */
  claim(callId: string): boolean {
    const p = this.pending.get(callId);
    if (!p || p.claimed) return false;
    p.claimed = true;
    clearTimeout(p.timer);
    p.timer = setTimeout(() => {
      if (this.pending.get(callId) !== p) return;
      this.pending.delete(callId);
      p.reject(new GatewayError('FLOW_NO_ANSWER', `the ps-rtp-sender did not answer within ${this.answerTimeoutMs} ms`, { callId, channelId: p.request.channelId, sipStatus: 503 }));
    }, this.answerTimeoutMs);
    return true;
  }

  /** The sender's answer. False if the call is no longer pending (timed out or cancelled). */
  answer(callId: string, a: InviteAnswer): boolean {
    const p = this.pending.get(callId);
    if (!p) return false;
    clearTimeout(p.timer);
    this.pending.delete(callId);
    if (a.ok) {
      this.live.set(callId, p.request.channelId);
      p.resolve({ localIp: a.localIp, localPort: a.localPort });
    } else {
      p.reject(new GatewayError('FLOW_SENDER_FAILED', a.reason, { callId, channelId: p.request.channelId, sipStatus: a.sipStatus ?? 500 }));
    }
    return true;
  }

  start(callId: string): void {
    const channelId = this.live.get(callId);
    if (channelId === undefined) return;
    this.o.send({ event: 'ack', callId, deviceNodeId: this.o.deviceNodeId, channelId });
  }

  stop(callId: string, reason: string): void {
    const p = this.pending.get(callId);
    const channelId = this.live.get(callId) ?? p?.request.channelId;
    if (p) {
      clearTimeout(p.timer);
      this.pending.delete(callId);
      // Never leave a prepare() hanging: whoever waits on it gets the reason.
      p.reject(new GatewayError('FLOW_STOPPED', `stopped while preparing: ${reason}`, { callId, channelId: p.request.channelId, sipStatus: 503 }));
    }
    this.live.delete(callId);
    // A sender may have prepared already (claimed, answer in flight): tell it to free the call.
    if (channelId !== undefined) this.o.send({ event: 'bye', callId, deviceNodeId: this.o.deviceNodeId, channelId, reason });
  }

  /** The channel of an answered call (undefined when not live). */
  channelOf(callId: string): string | undefined {
    return this.live.get(callId);
  }

  liveCount(): number {
    return this.live.size;
  }

  /** Calls answered and not yet stopped. */
  liveCalls(): string[] {
    return [...this.live.keys()];
  }

  /** Rejects every pending request (the device node is closing). */
  close(): void {
    for (const [callId, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new GatewayError('FLOW_CLOSED', 'the device node is closing', { callId, sipStatus: 503 }));
    }
    this.pending.clear();
    this.live.clear();
  }
}
