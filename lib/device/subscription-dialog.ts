/**
 * One subscription as the notifier (the device) holds it: the dialog the SUBSCRIBE created
 * (RFC 6665 §4.1.2.1 / RFC 3261 §12.1.1: Call-ID, the subscriber's From tag, our To tag), the
 * event header to echo in every NOTIFY (with its id, RFC 6665 §8.2.1), and when it expires.
 */
import { IncomingRequest } from '../sip/sip-endpoint';
import { RemoteEndpoint } from '../sip/sip-transport';
import { UasDialogPeers, uasDialogPeers } from '../sip/uas-dialog-peers';

export type SubscriptionKind = 'Catalog' | 'Alarm' | 'MobilePosition';

export interface SubscriptionSummary {
  kind: SubscriptionKind;
  callId: string;
  /** Unix ms. */
  expiresAt: number;
}

export class SubscriptionDialog {
  /** Our CSeq for the NOTIFYs of this dialog (RFC 3261 §12.2.1.1: increasing). */
  localCseq = 0;
  expiresAt = 0;
  /** MobilePosition: seconds between reports (the body's Interval). */
  interval = 5;
  /** The body's DeviceID: the device or one channel. */
  targetId = '';
  remote: RemoteEndpoint;
  expiryTimer?: NodeJS.Timeout;
  ended = false;
  /** NOTIFYs in a row that got no answer at all. */
  unanswered = 0;
  /** Unix ms when the subscription was accepted (the oldest goes first when there are too many). */
  readonly startedAt = Date.now();
  private subscribe: IncomingRequest;

  constructor(
    readonly kind: SubscriptionKind,
    subscribe: IncomingRequest,
    readonly localTag: string,
    /** The Event header as the subscriber wrote it, e.g. `Catalog;id=12`. */
    public event: string,
  ) {
    this.subscribe = subscribe;
    this.remote = subscribe.remote;
  }

  get callId(): string {
    return this.subscribe.message.headers['call-id'] ?? '';
  }

  /** A refresh may move the subscriber's address (RFC 3581 rport) and target. */
  refreshedBy(req: IncomingRequest): void {
    this.subscribe = req;
    this.remote = req.remote;
  }

  /** The subscriber (the SUBSCRIBE's From), us (its To with our tag) and where NOTIFYs go. */
  get peers(): UasDialogPeers {
    return uasDialogPeers(this.subscribe.message, this.localTag);
  }

  secondsLeft(now = Date.now()): number {
    return Math.max(0, Math.round((this.expiresAt - now) / 1000));
  }

  summary(): SubscriptionSummary {
    return { kind: this.kind, callId: this.callId, expiresAt: this.expiresAt };
  }
}
