/** Runs GB28181 media sessions against a MediaService for the tests. */
import * as assert from 'node:assert/strict';
import { MediaService } from '../../lib/media/media-service';
import { MediaTransport, StreamRequest } from '../../lib/session/stream-contract';
import { RtpTestReceiver } from './rtp-test-receiver';

const Y = '0100000001';
let callSeq = 0;

/** 50 ports somewhere in 30000-59999, so parallel suites rarely meet. */
export function randomPortRange(): [number, number] {
  const base = 30000 + Math.floor(Math.random() * 29900);
  return [base, base + 50];
}

export function streamRequest(transport: MediaTransport, remotePort: number, extra: Partial<StreamRequest> = {}): StreamRequest {
  return {
    callId: `call-${++callSeq}@test`, deviceId: '34020000001320000001', channelId: '34020000001320000011', sessionType: 'Play',
    transport, remoteIp: '127.0.0.1', remotePort, ssrc: Y, payloadType: 96, streamNumber: 0, ...extra,
  };
}

/** Runs one session for `seconds` and returns the receiver with what it captured. */
export async function runSession(service: MediaService, transport: MediaTransport, seconds: number, req?: Partial<StreamRequest>): Promise<RtpTestReceiver> {
  const rx = new RtpTestReceiver();
  try {
    if (transport === 'udp') await rx.listenUdp();
    if (transport === 'tcp-passive') await rx.listenTcp();
    const request = streamRequest(transport, rx.port, req);
    const answer = await service.prepare(request, new AbortController().signal);
    assert.equal(answer.localIp, '127.0.0.1');
    // tcp-active: the listener must exist when prepare() resolves (the 200 OK goes out next).
    if (transport === 'tcp-active') await rx.connectTcp(answer.localPort);
    service.start(request.callId);
    await rx.waitFor(() => rx.packets.length > 0, 5000, 'first RTP packet');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    service.stop(request.callId, 'test done');
    await new Promise((r) => setTimeout(r, 100));
    return rx;
  } finally {
    await rx.close();
  }
}
