/**
 * PTZCmd strings exactly as WVP builds them (GB28181-2016 Annex A.3: 8 bytes A5 0F 01 cc d1 d2 c2 ck,
 * ck = sum of bytes 1..7 mod 256). WVP has two builders with different quirks, both reproduced here:
 * - SipUtils#cmdString (SIPCommander#ptzCmd): byte 6 repeats the move speed; a zoom speed of 1..15 is
 *   raised to 16; byte 7 is the zoom speed's first hex digit followed by 0.
 * - SIPCommander#frontEndCmdString (PtzController, the REST API the web UI calls): byte 7 is
 *   `combineCode2 << 4` printed with %02X of which only two characters are kept, while the checksum
 *   adds the full `combineCode2 << 4`. For combineCode2 = 16 (PtzController's default zoom speed when
 *   the caller gives none) the byte is 0x10 but the checksum carries 0x100: the checksum is then
 *   0x10 short of the byte sum. Reproduced on purpose so a device's checksum policy can be tested.
 */
import { GatewayError } from '../../errors';

const hex2 = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');

function checkByte(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new GatewayError('PLATFORM_BAD_PTZ_ARGUMENT', `${name} must be an integer 0..${max}, got ${v}`);
}

/** SipUtils#cmdString: leftRight/upDown/inOut are 0 stop, 1 left|up|zoom-out, 2 right|down|zoom-in. */
export function wvpCmdString(leftRight: 0 | 1 | 2, upDown: 0 | 1 | 2, inOut: 0 | 1 | 2, moveSpeed: number, zoomSpeed: number): string {
  checkByte('moveSpeed', moveSpeed, 255);
  checkByte('zoomSpeed', zoomSpeed, 255);
  let cmdCode = 0;
  if (leftRight === 2) cmdCode |= 0x01;
  else if (leftRight === 1) cmdCode |= 0x02;
  if (upDown === 2) cmdCode |= 0x04;
  else if (upDown === 1) cmdCode |= 0x08;
  if (inOut === 2) cmdCode |= 0x10;
  else if (inOut === 1) cmdCode |= 0x20;
  const zoom = zoomSpeed > 0 && zoomSpeed < 16 ? 16 : zoomSpeed;
  const zoomByte = zoom.toString(16).toUpperCase().slice(0, 1) + '0';
  const check = (0xa5 + 0x0f + 0x01 + cmdCode + moveSpeed + moveSpeed + (zoom & 0xf0)) % 0x100;
  return `A50F01${hex2(cmdCode)}${hex2(moveSpeed)}${hex2(moveSpeed)}${zoomByte}${hex2(check)}`;
}

/** SIPCommander#frontEndCmdString (newer WVP): cmdCode, data 1, data 2, combination code 2. */
export function wvpFrontEndCmdString(cmdCode: number, parameter1: number, parameter2: number, combineCode2: number): string {
  checkByte('cmdCode', cmdCode, 255);
  checkByte('parameter1', parameter1, 255);
  checkByte('parameter2', parameter2, 255);
  checkByte('combineCode2', combineCode2, 16);
  const shifted = combineCode2 << 4;
  const byte7 = hex2(shifted).slice(0, 2);
  const check = (0xa5 + 0x0f + 0x01 + cmdCode + parameter1 + parameter2 + shifted) % 0x100;
  return `A50F01${hex2(cmdCode)}${hex2(parameter1)}${hex2(parameter2)}${byte7}${hex2(check)}`;
}

/** Command names of PtzController#ptz (/api/front-end/ptz). */
export type WvpPtzCommand = 'left' | 'right' | 'up' | 'down' | 'upleft' | 'upright' | 'downleft' | 'downright' | 'zoomin' | 'zoomout' | 'stop';

const PTZ_CODES: Record<WvpPtzCommand, number> = {
  left: 0x02, right: 0x01, up: 0x08, down: 0x04, upleft: 0x0a, upright: 0x09, downleft: 0x06, downright: 0x05, zoomin: 0x10, zoomout: 0x20, stop: 0,
};

export interface WvpPtzSpeeds {
  /** 0..255, PtzController default 100. */
  horizonSpeed?: number;
  /** 0..255, PtzController default 100. */
  verticalSpeed?: number;
  /** 0..15 when given; PtzController's default when absent is 16 (see the file comment). */
  zoomSpeed?: number;
}

/** PtzController#ptz: the command code and speeds it hands to frontEndCmd ("stop" zeroes the speeds). */
export function wvpPtzCommandString(command: WvpPtzCommand, speeds: WvpPtzSpeeds = {}): string {
  let h = speeds.horizonSpeed ?? 100;
  let v = speeds.verticalSpeed ?? 100;
  let z = speeds.zoomSpeed ?? 16;
  if (speeds.zoomSpeed !== undefined) checkByte('zoomSpeed', speeds.zoomSpeed, 15);
  if (command === 'stop') h = v = z = 0;
  return wvpFrontEndCmdString(PTZ_CODES[command], h, v, z);
}

/** PtzController preset commands: 0x81 set, 0x82 call, 0x83 delete; data 1 = 1, data 2 = preset 1..255. */
export function wvpPresetCommandString(action: 'set' | 'call' | 'delete', presetId: number): string {
  if (!Number.isInteger(presetId) || presetId < 1 || presetId > 255) throw new GatewayError('PLATFORM_BAD_PTZ_ARGUMENT', `preset must be 1..255, got ${presetId}`);
  const code = action === 'set' ? 0x81 : action === 'call' ? 0x82 : 0x83;
  return wvpFrontEndCmdString(code, 1, presetId, 0);
}

/** Decoded PTZCmd bytes, for assertions; `checksumOk` compares byte 8 with the byte sum (Annex A.3.1). */
export function decodePtzCmd(cmd: string): { bytes: number[]; checksumOk: boolean } {
  if (!/^[0-9A-Fa-f]{16}$/.test(cmd)) throw new GatewayError('PLATFORM_BAD_PTZ_ARGUMENT', `PTZCmd must be 16 hex digits, got ${cmd}`);
  const bytes = [...Buffer.from(cmd, 'hex')];
  const sum = bytes.slice(0, 7).reduce((a, b) => a + b, 0) % 256;
  return { bytes, checksumOk: sum === bytes[7] };
}
