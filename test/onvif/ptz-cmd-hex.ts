/**
 * Builds PTZCmd hex strings the way a platform does (GB28181-2016 Annex A.3; WVP's SipUtils#cmdString:
 * A5 0F, address low, instruction, data 1, data 2, data 3 << 4 | address high, byte sum), for tests.
 */
export function ptzCmdHex(instruction: number, d1 = 0, d2 = 0, d3 = 0, address = 1): string {
  const b = [0xa5, 0x0f, address & 0xff, instruction & 0xff, d1 & 0xff, d2 & 0xff, ((d3 & 0x0f) << 4) | ((address >> 8) & 0x0f)];
  b.push(b.reduce((s, x) => s + x, 0) % 256);
  return Buffer.from(b).toString('hex').toUpperCase();
}

/** Direction bits (A.3.2): right 0x01, left 0x02, down 0x04, up 0x08, zoom in 0x10, zoom out 0x20. */
export const PTZ_BITS = { right: 0x01, left: 0x02, down: 0x04, up: 0x08, zoomIn: 0x10, zoomOut: 0x20 } as const;

export const presetCmdHex = (action: 'set' | 'call' | 'delete', preset: number): string =>
  ptzCmdHex(action === 'set' ? 0x81 : action === 'call' ? 0x82 : 0x83, 0, preset);
