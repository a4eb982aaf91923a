/**
 * INVITE/ACK/BYE/CANCEL/INFO as the device (GB28181-2016 §9.2, RFC 3261 §13–15): checks the
 * request, asks the media side to prepare within a bound, answers 200 with our SDP (notes §1.6),
 * retransmits it until ACK, starts media on ACK, ends sessions either way.
 */
import { DeviceConfig, PlatformConfig } from '../config/gateway-config';
import { GatewayError } from '../errors';
import { Logger } from '../logger';
import { mediaStatusNotify } from '../manscdp/notify-bodies';
import { MANSCDP_CONTENT_TYPE, writeManscdp } from '../manscdp/manscdp-writer';
import { buildGbSdpAnswer } from '../sdp/gb-sdp-answer';
import { parseGbSdpOffer, toStreamRequest } from '../sdp/gb-sdp-offer';
import { SdpError } from '../sdp/sdp-error';
import { ChannelDescriptor, StreamAnswer, StreamHandler, StreamRequest } from '../session/stream-contract';
import { headerText, randomToken, SipMessage, uriUser } from '../sip/sip-codec';
import { IncomingRequest, SipEndpoint } from '../sip/sip-endpoint';
import { InviteDialog, SessionSummary } from './invite-dialog';
import { MansRtspError, parseMansRtsp } from './mansrtsp-command';

export interface InviteHandlerOptions {
  endpoint: SipEndpoint;
  device: DeviceConfig;
  platform: PlatformConfig;
  logger: Logger;
  channel: (id: string) => ChannelDescriptor | undefined;
  streamHandler: () => StreamHandler | undefined;
  inviteTimeoutMs: number;
  emit: (event: string, ...args: unknown[]) => void;
  nextSn: () => number;
}

export class InviteHandler {
  private readonly dialogs = new Map<string, InviteDialog>();

  constructor(private readonly o: InviteHandlerOptions) {}

  activeSessions(): SessionSummary[] {
    return [...this.dialogs.values()].map((d) => d.snapshot());
  }

  async handleInvite(req: IncomingRequest): Promise<void> {
    const o = this.o;
    const m = req.message;
    const callId = m.headers['call-id'] ?? '';
    const existing = this.dialogs.get(callId);
    if (m.headers.to?.params.tag) {
      // A re-INVITE: we do not renegotiate; an existing session keeps its answer.
      if (existing?.okResponse && existing.answerSdp) await o.endpoint.respond(req, 200, 'OK', { toTag: existing.localTag, body: Buffer.from(existing.answerSdp), contentType: 'application/sdp', headers: { contact: `<${o.endpoint.contactUri(o.device.id)}>` } });
      else await o.endpoint.respond(req, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (existing) return; // same INVITE, another branch: already being handled
    await o.endpoint.respond(req, 100, 'Trying');
    const channelId = uriUser(m.uri) ?? headerText(m, 'subject')?.split(':')[0] ?? '';
    const channel = o.channel(channelId);
    if (!channel) {
      await o.endpoint.respond(req, 404, `Not Found (no channel ${channelId.slice(0, 24)})`);
      return;
    }
    if (!channel.online) {
      await o.endpoint.respond(req, 480, 'Temporarily Unavailable (channel offline)');
      return;
    }
    const contentType = (headerText(m, 'content-type') ?? '').toLowerCase();
    if (!contentType.startsWith('application/sdp')) {
      await o.endpoint.respond(req, 415, 'Unsupported Media Type (expected application/sdp)', { headers: { accept: 'application/sdp' } });
      return;
    }
    let request: StreamRequest;
    let offerTimes: [number, number];
    try {
      const offer = parseGbSdpOffer(req.body.toString('latin1'));
      const ssrc = offer.ssrc ?? `${offer.sessionType === 'Play' ? '0' : '1'}${String(Math.floor(Math.random() * 1e9)).padStart(9, '0')}`;
      request = toStreamRequest(offer, { callId, deviceId: o.device.id, channelId }, ssrc);
      offerTimes = [offer.startTime, offer.endTime];
    } catch (e) {
      const err = e instanceof SdpError ? e : new SdpError('SDP_MALFORMED', String(e));
      o.logger.warn(`INVITE rejected: ${err.message}`, { callId, channelId });
      await o.endpoint.respond(req, err.sipStatus, `${err.sipStatus === 488 ? 'Not Acceptable Here' : 'Bad Request'} (${oneLine(err.message)})`);
      return;
    }
    const handler = o.streamHandler();
    if (!handler) {
      await o.endpoint.respond(req, 503, 'Service Unavailable (no media service)');
      return;
    }
    const dialog = new InviteDialog(req, {
      callId,
      channelId,
      sessionType: request.sessionType,
      transport: request.transport,
      remoteIp: request.remoteIp,
      remotePort: request.remotePort,
      ssrc: request.ssrc,
    }, randomToken(6));
    this.dialogs.set(callId, dialog);
    o.emit('invite', request);
    let answer: StreamAnswer;
    try {
      answer = await withTimeout(handler.prepare(request, dialog.abort.signal), o.inviteTimeoutMs, dialog.abort);
    } catch (e) {
      if (dialog.state !== 'preparing') return; // cancelled meanwhile: 487 already sent
      this.dialogs.delete(callId);
      dialog.state = 'ended';
      const timedOut = e instanceof PrepareTimeout;
      const hinted = e instanceof GatewayError && typeof e.context.sipStatus === 'number' ? e.context.sipStatus : undefined;
      const status = hinted && hinted >= 400 && hinted < 700 ? hinted : timedOut ? 503 : 500;
      const reason = timedOut ? `media not ready within ${o.inviteTimeoutMs} ms` : (e as Error).message;
      o.logger.warn(`INVITE for ${channelId} failed: ${reason}`, { callId, channelId });
      safeStop(handler, callId, reason, o.logger);
      await o.endpoint.respond(req, status, `${status === 503 ? 'Service Unavailable' : status === 500 ? 'Server Internal Error' : 'Failed'} (${oneLine(reason)})`);
      return;
    }
    if (dialog.state !== 'preparing') {
      safeStop(handler, callId, 'cancelled', o.logger);
      return;
    }
    const sdp = buildGbSdpAnswer({
      deviceId: o.device.id,
      ip: answer.localIp,
      port: answer.localPort,
      sessionType: request.sessionType,
      transport: request.transport,
      payloadType: request.payloadType,
      startTime: offerTimes[0],
      endTime: offerTimes[1],
      ssrc: request.ssrc,
    });
    dialog.answerSdp = sdp;
    dialog.state = 'answered';
    dialog.okResponse = await o.endpoint.respond(req, 200, 'OK', {
      toTag: dialog.localTag,
      body: Buffer.from(sdp, 'latin1'),
      contentType: 'APPLICATION/SDP',
      headers: { contact: `<${o.endpoint.contactUri(o.device.id)}>` },
    });
    if (req.remote.protocol === 'udp') {
      const ok = dialog.okResponse;
      dialog.startRetransmit(
        () => void o.endpoint.sendRaw(ok, req.remote).catch(() => undefined),
        () => {
          o.logger.warn('no ACK to our 200 OK within 32 s: ending the session', { callId, channelId });
          void this.endSession(callId, 'no ACK');
        },
      );
    }
  }

  handleAck(req: IncomingRequest): void {
    const callId = req.message.headers['call-id'] ?? '';
    const dialog = this.dialogs.get(callId);
    if (!dialog || dialog.state !== 'answered') return; // ACK of a non-2xx, or a retransmitted ACK
    dialog.stopRetransmit();
    dialog.state = 'confirmed';
    this.o.emit('ack', callId);
    const handler = this.o.streamHandler();
    try {
      handler?.start(callId);
    } catch (e) {
      this.o.logger.error(`media start failed: ${(e as Error).message}`, { callId });
      void this.endSession(callId, `media start failed: ${(e as Error).message}`);
    }
  }

  async handleBye(req: IncomingRequest): Promise<void> {
    const callId = req.message.headers['call-id'] ?? '';
    const dialog = this.dialogs.get(callId);
    if (!dialog || !this.inDialog(req.message, dialog)) {
      await this.o.endpoint.respond(req, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    await this.o.endpoint.respond(req, 200, 'OK');
    this.finish(dialog, 'BYE from platform');
    this.o.emit('bye', callId, 'platform');
  }

  async handleCancel(req: IncomingRequest): Promise<void> {
    const callId = req.message.headers['call-id'] ?? '';
    const dialog = this.dialogs.get(callId);
    if (!dialog || dialog.invite.message.headers.cseq?.seq !== req.message.headers.cseq?.seq) {
      await this.o.endpoint.respond(req, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    await this.o.endpoint.respond(req, 200, 'OK');
    if (dialog.state !== 'preparing') return; // RFC 3261 §9.2: a CANCEL after the final response has no effect
    dialog.state = 'ended';
    dialog.abort.abort();
    this.dialogs.delete(callId);
    await this.o.endpoint.respond(dialog.invite, 487, 'Request Terminated', { toTag: dialog.localTag });
    safeStop(this.o.streamHandler(), callId, 'CANCEL from platform', this.o.logger);
    this.o.emit('cancel', callId);
  }

  async handleInfo(req: IncomingRequest): Promise<void> {
    const callId = req.message.headers['call-id'] ?? '';
    const dialog = this.dialogs.get(callId);
    if (!dialog || !this.inDialog(req.message, dialog)) {
      await this.o.endpoint.respond(req, 481, 'Call/Transaction Does Not Exist');
      return;
    }
    const ct = (headerText(req.message, 'content-type') ?? '').toLowerCase();
    if (ct !== 'application/mansrtsp') {
      await this.o.endpoint.respond(req, 415, 'Unsupported Media Type (expected Application/MANSRTSP)');
      return;
    }
    try {
      const cmd = parseMansRtsp(req.body.toString('latin1'));
      await this.o.endpoint.respond(req, 200, 'OK');
      this.o.emit('playback-control', callId, cmd);
    } catch (e) {
      const reason = e instanceof MansRtspError ? e.message : String(e);
      await this.o.endpoint.respond(req, 400, `Bad Request (${oneLine(reason)})`);
    }
  }

  /** Device-initiated end: BYE in the dialog (or a final error if not answered yet), then free media. */
  async endSession(callId: string, reason: string, byeTimeoutMs = 4000): Promise<void> {
    const dialog = this.dialogs.get(callId);
    if (!dialog) return;
    if (dialog.state === 'preparing') {
      dialog.state = 'ended';
      dialog.abort.abort();
      this.dialogs.delete(callId);
      await this.o.endpoint.respond(dialog.invite, 503, `Service Unavailable (${oneLine(reason)})`, { toTag: dialog.localTag });
      safeStop(this.o.streamHandler(), callId, reason, this.o.logger);
      return;
    }
    this.finish(dialog, reason);
    this.o.emit('bye', callId, 'device');
    const bye = this.inDialogRequest(dialog, 'BYE');
    try {
      const r = await this.o.endpoint.request(bye, dialog.invite.remote, { timeoutMs: byeTimeoutMs });
      if ((r.status ?? 0) >= 300) this.o.logger.info(`platform answered ${r.status} to our BYE`, { callId });
    } catch (e) {
      this.o.logger.warn(`BYE not answered: ${(e as Error).message}`, { callId });
    }
  }

  /** MediaStatus (NotifyType 121 = end of file) in the INVITE's Call-ID and tags (notes §8.5). */
  async sendMediaStatus(callId: string, notifyType = 121): Promise<void> {
    const dialog = this.dialogs.get(callId);
    if (!dialog) throw new GatewayError('SESSION_UNKNOWN', `no session ${callId}`, { callId });
    const body = writeManscdp('Notify', mediaStatusNotify(this.o.nextSn(), dialog.summary.channelId, notifyType), this.o.platform.charset);
    const msg = this.inDialogRequest(dialog, 'MESSAGE', body, MANSCDP_CONTENT_TYPE);
    const r = await this.o.endpoint.request(msg, dialog.invite.remote, { timeoutMs: 4000 });
    if ((r.status ?? 0) >= 300) this.o.logger.info(`platform answered ${r.status} to MediaStatus`, { callId });
  }

  /** Ends every session (BYE), waiting at most `timeoutMs` for the answers. */
  async closeAll(timeoutMs = 1500): Promise<void> {
    await Promise.all([...this.dialogs.keys()].map((id) => this.endSession(id, 'device stopping', timeoutMs)));
  }

  private finish(dialog: InviteDialog, reason: string): void {
    dialog.stopRetransmit();
    dialog.state = 'ended';
    dialog.abort.abort();
    this.dialogs.delete(dialog.callId);
    safeStop(this.o.streamHandler(), dialog.callId, reason, this.o.logger);
  }

  private inDialog(m: SipMessage, dialog: InviteDialog): boolean {
    // RFC 3261 §12.2.2: matched by Call-ID and tags; a platform that omits our tag is still served.
    const toTag = m.headers.to?.params.tag;
    return !toTag || toTag === dialog.localTag;
  }

  private inDialogRequest(dialog: InviteDialog, method: string, body?: Buffer, contentType?: string): SipMessage {
    const { remoteAddress, localAddress, remoteTarget } = dialog.peers;
    return this.o.endpoint.newRequest({
      method,
      uri: remoteTarget,
      from: localAddress,
      to: remoteAddress,
      callId: dialog.callId,
      cseq: ++dialog.localCseq,
      body,
      contentType,
    });
  }
}

class PrepareTimeout extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, abort: AbortController): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      abort.abort();
      reject(new PrepareTimeout(`timed out after ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(t);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function safeStop(handler: StreamHandler | undefined, callId: string, reason: string, logger: Logger): void {
  try {
    handler?.stop(callId, reason);
  } catch (e) {
    logger.warn(`media stop failed: ${(e as Error).message}`, { callId });
  }
}

function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, ' ').slice(0, 100);
}
