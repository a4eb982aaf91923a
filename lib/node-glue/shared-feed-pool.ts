/**
 * One CameraFeedPool per Node-RED runtime, shared by every ps-rtp-sender's MediaService and every
 * rtsp-source's recorder: a camera is pulled once (one RTSP connection) whether a viewer watches,
 * the recorder writes, or both (issue #7). Users join and leave; the pool closes with the last one,
 * so a redeploy or a test unload leaves no ffmpeg behind.
 *
 * The pool's settings follow the senders that joined: keep-warm is the longest any sender asks
 * for (0 with recorders only), the GOP cache is on unless every sender turned it off. A sender's
 * transcode option is what the recorder pulls with too, so both use one feed per source key.
 */
import { Logger, silentLogger } from '../logger';
import { CameraFeedPool, CameraFeedPoolOptions } from '../media/camera-feed-pool';
import { locateFfTool } from '../media/ffmpeg-path';
import { TranscodeOptions } from '../media/rtsp-ingest';
import { MediaSourceSpec } from '../media/media-source';
import { AccessUnitFeed, FeedLease } from '../record/recorder';

/** What a sender contributes to the shared pool's settings. */
export interface FeedPoolUserSettings {
  gopCache: boolean;
  keepWarmMs: number;
  transcode?: TranscodeOptions;
}

export interface SharedFeedPoolMembership {
  readonly pool: CameraFeedPool;
  /** The transcode option the senders use (the first sender that has one). */
  transcode(): TranscodeOptions | undefined;
  /** Leaves the pool; the last member closes it. Idempotent. */
  leave(): void;
}

interface RuntimePool {
  pool: CameraFeedPool;
  members: Set<object>;
  senders: Map<object, FeedPoolUserSettings>;
}

const pools = new WeakMap<object, RuntimePool>();

/**
 * Joins the pool of a runtime (`runtimeKey`: RED.events, one object per runtime). Senders pass their
 * settings; recorders pass none.
 */
export function joinSharedFeedPool(runtimeKey: object, settings?: FeedPoolUserSettings, logger: Logger = silentLogger): SharedFeedPoolMembership {
  let rp = pools.get(runtimeKey);
  if (!rp) {
    const senders = new Map<object, FeedPoolUserSettings>();
    // Read by the pool when a feed starts (gopCache) or is released (keepWarmMs): always current.
    const options: CameraFeedPoolOptions = {
      ffmpeg: () => locateFfTool('ffmpeg', { logger }),
      logger,
      get gopCache() {
        return senders.size === 0 || [...senders.values()].some((s) => s.gopCache);
      },
      get keepWarmMs() {
        return Math.max(0, ...[...senders.values()].map((s) => s.keepWarmMs));
      },
    };
    rp = { pool: new CameraFeedPool(options), members: new Set(), senders };
    pools.set(runtimeKey, rp);
  }
  const entry = rp;
  const member = {};
  entry.members.add(member);
  if (settings) entry.senders.set(member, settings);
  return {
    pool: entry.pool,
    transcode: () => [...entry.senders.values()].find((s) => s.transcode)?.transcode,
    leave: () => {
      if (!entry.members.delete(member)) return;
      entry.senders.delete(member);
      if (entry.members.size === 0) {
        entry.pool.close();
        if (pools.get(runtimeKey) === entry) pools.delete(runtimeKey);
      }
    },
  };
}

/**
 * A recorder's hold on its camera in the shared pool: acquire() joins (or starts) the feed of the
 * channel's main stream, release() lets it go (the pool keeps it while a viewer uses it).
 */
export function sharedFeedLease(membership: SharedFeedPoolMembership, spec: (transcode?: TranscodeOptions) => MediaSourceSpec | undefined): FeedLease {
  let held: string | undefined;
  return {
    acquire(): AccessUnitFeed | undefined {
      const s = spec(membership.transcode());
      if (!s) return undefined;
      if (held) membership.pool.release(held);
      held = s.key;
      return membership.pool.acquire(s);
    },
    release(): void {
      if (!held) return;
      membership.pool.release(held);
      held = undefined;
    },
  };
}
