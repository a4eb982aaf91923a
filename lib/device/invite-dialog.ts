/**
 * One INVITE session as the device (UAS) sees it: the dialog identifiers (RFC 3261 §12.1.1),
 * the stream it carries, and the 2xx retransmission until ACK (§13.3.1.4: T1 doubling to T2,
 * give up after 64·T1).
 */
import { StreamRequest } from '../session/stream-contract';
import { SipMessage } from '../sip/sip-codec';
import { IncomingRequest } from '../sip/sip-endpoint';
import { UasDialogPeers, uasDialogPeers } from '../sip/uas-dialog-peers';

export type InviteState = 'preparing' | 'answered' | 'confirmed' | 'ended';

export type SessionSummary = Pick<StreamRequest, 'callId' | 'channelId' | 'sessionType' | 'transport' | 'remoteIp' | 'remotePort' | 'ssrc'> & {
  state: InviteState;
};

export class InviteDialog {
  state: InviteState = 'preparing';
  readonly localTag: string;
  readonly abort = new AbortController();
  okResponse?: SipMessage;
  answerSdp?: string;
  /** Our CSeq for requests we send in this dialog (BYE, MESSAGE). */
  localCseq = 1;
  private retransmitTimer?: NodeJS.Timeout;

  constructor(
    readonly invite: IncomingRequest,
    readonly summary: Omit<SessionSummary, 'state'>,
    localTag: string,
  ) {
    this.localTag = localTag;
  }

  get callId(): string {
    return this.summary.callId;
  }

  snapshot(): SessionSummary {
    return { ...this.summary, state: this.state };
  }

  /** The platform (the INVITE's From), us (its To with our tag) and where in-dialog requests go. */
  get peers(): UasDialogPeers {
    return uasDialogPeers(this.invite.message, this.localTag);
  }

  startRetransmit(send: () => void, onGiveUp: () => void): void {
    let interval = 500;
    let elapsed = 0;
    const step = () => {
      if (this.state !== 'answered') return;
      if (elapsed >= 32_000) {
        onGiveUp();
        return;
      }
      send();
      elapsed += interval;
      interval = Math.min(interval * 2, 4000);
      this.retransmitTimer = setTimeout(step, interval);
    };
    this.retransmitTimer = setTimeout(step, interval);
    elapsed = interval;
  }

  stopRetransmit(): void {
    if (this.retransmitTimer) clearTimeout(this.retransmitTimer);
    this.retransmitTimer = undefined;
  }
}
