/**
 * Client transactions for the emulator's own requests (RFC 3261 §17.1): responses matched by the
 * top Via branch, UDP retransmission from T1 = 500 ms doubling (capped at T2 = 4 s except for
 * INVITE, whose retransmissions stop at the first provisional answer), a final-answer deadline.
 */
import { GatewayError } from '../../errors';
import { PlatformSipTransport, SipPeer } from './platform-sip-transport';
import { headerParam, headerValue, headerValues, SipRequest, SipResponse } from './sip-text-codec';

const SIP_T1 = 500;
const SIP_T2 = 4000;

interface PendingTransaction {
  method: string;
  resolve: (res: SipResponse) => void;
  reject: (e: Error) => void;
  deadline: NodeJS.Timeout;
  retransmit?: NodeJS.Timeout;
}

export class SipClientTransactions {
  private readonly pending = new Map<string, PendingTransaction>();

  constructor(private readonly transport: PlatformSipTransport) {}

  /** Sends `req` and resolves with its final response; rejects on timeout or send failure. */
  send(req: SipRequest, to: SipPeer, timeoutMs: number): Promise<SipResponse> {
    const branch = headerParam(headerValues(req, 'Via')[0] ?? '', 'branch') ?? '';
    return new Promise<SipResponse>((resolve, reject) => {
      const tx: PendingTransaction = {
        method: req.method,
        resolve,
        reject,
        deadline: setTimeout(() => {
          this.drop(branch);
          reject(new GatewayError('PLATFORM_REQUEST_TIMEOUT', `no final answer to ${req.method} within ${timeoutMs} ms`, { callId: headerValue(req, 'Call-ID'), peer: `${to.address}:${to.port}` }));
        }, timeoutMs),
      };
      this.pending.set(branch, tx);
      const schedule = (interval: number): void => {
        if (this.transport.kind !== 'udp') return;
        tx.retransmit = setTimeout(() => {
          if (this.pending.get(branch) !== tx) return;
          void this.transport.send(req, to).catch(() => undefined);
          schedule(req.method === 'INVITE' ? interval * 2 : Math.min(interval * 2, SIP_T2));
        }, interval);
      };
      this.transport.send(req, to).then(() => schedule(SIP_T1), (e: unknown) => {
        this.drop(branch);
        reject(e instanceof Error ? e : new Error(String(e)));
      });
    });
  }

  /** Feeds a response; false when it belongs to no pending transaction (e.g. a retransmitted 2xx). */
  onResponse(res: SipResponse): boolean {
    const branch = headerParam(headerValues(res, 'Via')[0] ?? '', 'branch') ?? '';
    const tx = this.pending.get(branch);
    if (!tx) return false;
    if (res.status < 200) {
      if (tx.retransmit) clearTimeout(tx.retransmit);
      tx.retransmit = undefined;
      return true;
    }
    this.drop(branch);
    tx.resolve(res);
    return true;
  }

  /** Rejects everything still pending (platform stopping). */
  abortAll(reason: string): void {
    for (const [branch, tx] of [...this.pending]) {
      this.drop(branch);
      tx.reject(new GatewayError('PLATFORM_STOPPED', `${reason} before the answer to ${tx.method}`, { key: branch }));
    }
  }

  private drop(branch: string): void {
    const tx = this.pending.get(branch);
    if (!tx) return;
    clearTimeout(tx.deadline);
    if (tx.retransmit) clearTimeout(tx.retransmit);
    this.pending.delete(branch);
  }
}
