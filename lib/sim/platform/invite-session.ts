/**
 * One established play/playback/download dialog on the emulator side: the device's answer, the
 * RTP it sends, and the in-dialog requests WVP makes (BYE, MANSRTSP INFO, notes §8.4).
 */
import { EventEmitter } from 'node:events';
import { RtpPacketRecord, RtpPsReceiver } from './rtp-ps-receiver';
import { SipRequest, SipResponse } from './sip-text-codec';
import { MediaTransportMode, ParsedAnswer } from './wvp-sdp';

/** What the emulator needs to send in-dialog requests for a session. */
export interface DialogRequestSender {
  sendInDialog(session: InviteSession, method: 'BYE' | 'INFO', body?: Buffer, contentType?: string): Promise<SipResponse>;
  forgetSession(session: InviteSession): void;
}

export interface InviteSessionInit {
  callId: string;
  deviceId: string;
  channelId: string;
  ssrc: string;
  transport: MediaTransportMode;
  fromTag: string;
  toTag: string;
  status: number;
  answerSdp: string;
  answer: ParsedAnswer;
  offerSdp: string;
  ack: SipRequest;
  receiver: RtpPsReceiver;
}

export interface InviteSessionEvents {
  rtp: [record: RtpPacketRecord];
  bye: [];
  /** No RTP within InviteOptions.mediaTimeoutMs: we BYE the session as WVP does. */
  'media-timeout': [];
  message: [cmdType: string, fields: Record<string, string>, rawBody: string];
}

export class InviteSession extends EventEmitter<InviteSessionEvents> {
  readonly callId: string;
  readonly deviceId: string;
  readonly channelId: string;
  readonly ssrc: string;
  readonly transport: MediaTransportMode;
  readonly fromTag: string;
  readonly toTag: string;
  readonly status: number;
  readonly answerSdp: string;
  readonly answer: ParsedAnswer;
  readonly offerSdp: string;
  /** The ACK we sent, kept to answer a retransmitted 200. */
  readonly ack: SipRequest;
  /** Deviations of the answer SDP from what WVP/JAIN-SIP accept (empty when clean). */
  readonly sdpProblems: string[];
  private readonly receiver: RtpPsReceiver;
  private ended = false;

  constructor(init: InviteSessionInit, private readonly sender: DialogRequestSender) {
    super();
    this.callId = init.callId;
    this.deviceId = init.deviceId;
    this.channelId = init.channelId;
    this.ssrc = init.ssrc;
    this.transport = init.transport;
    this.fromTag = init.fromTag;
    this.toTag = init.toTag;
    this.status = init.status;
    this.answerSdp = init.answerSdp;
    this.answer = init.answer;
    this.offerSdp = init.offerSdp;
    this.ack = init.ack;
    this.sdpProblems = init.answer.problems;
    this.receiver = init.receiver;
    this.receiver.on('rtp', (r) => this.emit('rtp', r));
  }

  /** RTP headers received, capped at MAX_PACKET_RECORDS. */
  get packets(): RtpPacketRecord[] {
    return this.receiver.packets;
  }

  get psBytes(): number {
    return this.receiver.psBytes;
  }

  get firstPacketAt(): number | undefined {
    return this.receiver.firstPacketAt;
  }

  /** Counters for benchmarks: every packet (uncapped), sequence gaps, late packets, non-RTP input, timing. */
  stats(): { packets: number; lost: number; late: number; rejected: number; psBytes: number; firstPacketAt?: number; lastPacketAt?: number } {
    const r = this.receiver;
    return { packets: r.packetCount, lost: r.lostPackets, late: r.latePackets, rejected: r.rejected, psBytes: r.psBytes, firstPacketAt: r.firstPacketAt, lastPacketAt: r.lastPacketAt };
  }

  /** Local media port we offered. */
  get mediaPort(): number {
    return this.receiver.port;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Resolves once `count` RTP packets have arrived (or rejects after timeoutMs). */
  waitForPackets(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.packets.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onRtp = (): void => {
        if (this.packets.length < count) return;
        clearTimeout(timer);
        this.off('rtp', onRtp);
        resolve();
      };
      const timer = setTimeout(() => {
        this.off('rtp', onRtp);
        reject(new Error(`only ${this.packets.length} of ${count} RTP packets within ${timeoutMs} ms (call ${this.callId})`));
      }, timeoutMs);
      this.on('rtp', onRtp);
    });
  }

  /** Our BYE (WVP stopPlay); resolves after the device's answer or its timeout, media closed either way. */
  async bye(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    try {
      await this.sender.sendInDialog(this, 'BYE');
    } finally {
      await this.finish();
    }
  }

  /** A MANSRTSP INFO in the dialog (notes §8.4); returns the SIP status. */
  async info(body: string): Promise<number> {
    const res = await this.sender.sendInDialog(this, 'INFO', Buffer.from(body, 'utf8'), 'Application/MANSRTSP');
    return res.status;
  }

  /** Drops the session locally without signalling (media closed). */
  close(): void {
    this.ended = true;
    void this.finish();
  }

  /** Called by the emulator when the device sends BYE (already answered 200). */
  handleRemoteBye(): void {
    if (this.ended) return;
    this.ended = true;
    void this.finish().then(() => this.emit('bye'));
  }

  private async finish(): Promise<void> {
    this.sender.forgetSession(this);
    await this.receiver.close();
  }
}
