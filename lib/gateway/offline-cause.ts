/**
 * Why a camera's channel is offline, for the catalog event platforms get (GB28181-2016 Annex A.2.4:
 * OFF, VLOST, DEFECT; see ChannelDescriptor.offlineCause). A camera that refuses us (credentials,
 * path, codec) is DEFECT; one that answers RTSP but whose feed died is VLOST; silence is OFF.
 */
import { GatewayError } from '../errors';
import { checkRtspLiveness } from '../media/rtsp-liveness';
import { ChannelDescriptor } from '../session/stream-contract';

export type OfflineCause = NonNullable<ChannelDescriptor['offlineCause']>;

/** Probe (ffprobe) error codes that mean the camera is there but refuses or cannot serve us. */
const DEFECT_CODES = new Set(['RTSP_UNAUTHORIZED', 'RTSP_NOT_FOUND', 'RTSP_UNSUPPORTED_CODEC']);

/** The cause a failed probe gives a channel: DEFECT for a refusal, otherwise unreachable. */
export function offlineCauseOfProbeFailure(err: unknown): OfflineCause {
  return err instanceof GatewayError && DEFECT_CODES.has(err.code) ? 'defect' : 'unreachable';
}

/**
 * The cause of a feed that went offline: one RTSP OPTIONS (bounded by `timeoutMs`) tells a camera
 * that still answers but sends no video (video-lost) from one that is gone (unreachable).
 */
export async function offlineCauseOfFeedLoss(url: string, timeoutMs = 2000): Promise<OfflineCause> {
  const answer = await checkRtspLiveness(url, { timeoutMs });
  return answer.alive ? 'video-lost' : 'unreachable';
}

/** A camera that refused us before (DEFECT) and still answers most likely still refuses us: it stays DEFECT. */
export function keptDefect(cause: OfflineCause, before: ChannelDescriptor | undefined): OfflineCause {
  return cause === 'video-lost' && before !== undefined && !before.online && before.offlineCause === 'defect' ? 'defect' : cause;
}
