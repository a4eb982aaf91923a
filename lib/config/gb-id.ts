/**
 * GB28181 identifiers (GB28181-2016 Annex D): 20 digits = 8-digit civil code + 2-digit industry
 * code + 3-digit type code + 7-digit serial number. Type codes 111–130 are devices (111 DVR,
 * 118 NVR), 131/132 are cameras/IPCs (the channels), 200 a platform server, 215/216 groups.
 */
export const GB_ID_PATTERN = /^\d{20}$/;

export function isGbId(id: string): boolean {
  return GB_ID_PATTERN.test(id);
}

export function typeCodeOf(id: string): number {
  return Number(id.slice(10, 13));
}

/** Device-like type codes (GB28181-2016 Annex D, 111–130). */
export function isDeviceTypeCode(id: string): boolean {
  const t = typeCodeOf(id);
  return t >= 111 && t <= 130;
}

/** Camera / IPC type codes 131 and 132: what a channel of ours is. */
export function isChannelTypeCode(id: string): boolean {
  const t = typeCodeOf(id);
  return t === 131 || t === 132;
}

/**
 * A stable channel ID for the index-th camera of a device that did not name one:
 * the device's first 10 digits (civil + industry code), type 132 (IPC), serial = index + 1.
 * Stable across restarts as long as the camera keeps its place in the list.
 */
export function channelIdFor(deviceId: string, index: number): string {
  return `${deviceId.slice(0, 10)}132${String(index + 1).padStart(7, '0')}`;
}
