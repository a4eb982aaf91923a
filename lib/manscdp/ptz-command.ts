/**
 * PTZCmd decoding (GB28181-2016 Annex A.3, "前端设备控制协议"): 8 bytes as 16 hex digits.
 *   1: A5            2: version (high nibble, 0) | checksum of nibbles (low: (A + 5 + version) mod 16)
 *   3: address low   4: instruction   5, 6: data 1 and 2   7: data 3 (high nibble) | address high
 *   8: checksum = sum of bytes 1–7 mod 256
 * WVP builds these in SipUtils#cmdString (A50F01, speeds in bytes 5–6, zoom speed in byte 7's
 * high nibble, byte 8 the sum; notes §1.4).
 */
export type PanDirection = 'left' | 'right';
export type TiltDirection = 'up' | 'down';
export type ZoomDirection = 'in' | 'out';

export type PtzCommand =
  | { kind: 'stop'; address: number }
  | { kind: 'move'; address: number; pan?: PanDirection; tilt?: TiltDirection; zoom?: ZoomDirection; panSpeed: number; tiltSpeed: number; zoomSpeed: number }
  | { kind: 'focus-iris'; address: number; focus?: 'near' | 'far'; iris?: 'open' | 'close'; focusSpeed: number; irisSpeed: number }
  | { kind: 'preset'; address: number; action: 'set' | 'call' | 'delete'; preset: number }
  | { kind: 'other'; address: number; code: number; data: [number, number, number] };

export class PtzCommandError extends Error {}

export function decodePtzCommand(hex: string): PtzCommand {
  const text = hex.trim();
  if (!/^[0-9a-fA-F]{16}$/.test(text)) throw new PtzCommandError(`PTZCmd must be 16 hex digits, got "${text.slice(0, 40)}"`);
  const b = Buffer.from(text, 'hex');
  if (b[0] !== 0xa5) throw new PtzCommandError(`PTZCmd first byte must be A5, got ${hex2(b[0])}`);
  const version = b[1] >> 4;
  const nibbleSum = ((b[0] >> 4) + (b[0] & 0x0f) + version) % 16;
  if ((b[1] & 0x0f) !== nibbleSum) throw new PtzCommandError(`PTZCmd byte 2 check nibble ${(b[1] & 0x0f).toString(16)} should be ${nibbleSum.toString(16)}`);
  let sum = 0;
  for (let i = 0; i < 7; i++) sum += b[i];
  if (sum % 256 !== b[7] && !isWvpZoomSpeedQuirk(b, sum)) throw new PtzCommandError(`PTZCmd checksum ${hex2(b[7])} should be ${hex2(sum % 256)}`);
  const address = ((b[6] & 0x0f) << 8) | b[2];
  const code = b[3];
  const d1 = b[4];
  const d2 = b[5];
  const d3 = b[6] >> 4;
  if ((code & 0xc0) === 0) {
    if ((code & 0x3f) === 0) return { kind: 'stop', address };
    const pan: PanDirection | undefined = code & 0x01 ? 'right' : code & 0x02 ? 'left' : undefined;
    const tilt: TiltDirection | undefined = code & 0x04 ? 'down' : code & 0x08 ? 'up' : undefined;
    const zoom: ZoomDirection | undefined = code & 0x10 ? 'in' : code & 0x20 ? 'out' : undefined;
    return { kind: 'move', address, pan, tilt, zoom, panSpeed: d1, tiltSpeed: d2, zoomSpeed: d3 };
  }
  if ((code & 0xf0) === 0x40) {
    if ((code & 0x0f) === 0) return { kind: 'stop', address };
    const focus = code & 0x01 ? 'far' : code & 0x02 ? 'near' : undefined;
    const iris = code & 0x04 ? 'open' : code & 0x08 ? 'close' : undefined;
    return { kind: 'focus-iris', address, focus, iris, focusSpeed: d1, irisSpeed: d2 };
  }
  if (code === 0x81 || code === 0x82 || code === 0x83) {
    return { kind: 'preset', address, action: code === 0x81 ? 'set' : code === 0x82 ? 'call' : 'delete', preset: d2 };
  }
  return { kind: 'other', address, code, data: [d1, d2, d3] };
}

/**
 * WVP's REST PTZ call (PtzController → SIPCommander#frontEndCmdString) defaults the zoom speed to 16:
 * byte 7 is written as the first two hex digits of 16 << 4 ("10") while the checksum adds the whole
 * 0x100, so the checksum is 0x10 short of the byte sum. WVP's own web panel sends exactly this; a
 * device that refused it would make every arrow press fail, so this one shape is accepted.
 */
function isWvpZoomSpeedQuirk(b: Buffer, sum: number): boolean {
  return b[6] === 0x10 && (sum - 0x10) % 256 === b[7];
}

function hex2(n: number): string {
  return n.toString(16).toUpperCase().padStart(2, '0');
}
