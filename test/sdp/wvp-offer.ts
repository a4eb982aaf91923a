/** An offer as WVP's SIPCommander writes it (notes §1.5). */
export function wvpOffer(mode: 'UDP' | 'TCP-PASSIVE' | 'TCP-ACTIVE', opts: { s?: string; t?: string; ssrc?: string; ip?: string; port?: number; extra?: string[] } = {}): string {
  const ip = opts.ip ?? '127.0.0.1';
  const lines = ['v=0', `o=34020000001320000001 0 0 IN IP4 ${ip}`, `s=${opts.s ?? 'Play'}`];
  if (opts.s && opts.s !== 'Play') lines.push('u=34020000001320000001:0');
  lines.push(`c=IN IP4 ${ip}`, `t=${opts.t ?? '0 0'}`);
  lines.push(`m=video ${opts.port ?? 30000} ${mode === 'UDP' ? 'RTP/AVP' : 'TCP/RTP/AVP'} 96 97 98 99`);
  lines.push('a=recvonly', 'a=rtpmap:96 PS/90000', 'a=rtpmap:98 H264/90000', 'a=rtpmap:97 MPEG4/90000', 'a=rtpmap:99 H265/90000');
  if (mode === 'TCP-PASSIVE') lines.push('a=setup:passive', 'a=connection:new');
  if (mode === 'TCP-ACTIVE') lines.push('a=setup:active', 'a=connection:new');
  lines.push(...(opts.extra ?? []));
  lines.push(`y=${opts.ssrc ?? '0200000001'}`);
  return lines.join('\r\n') + '\r\n';
}
