/**
 * Which local address the platform can reach us on, when we bind to 0.0.0.0: the source
 * address the kernel picks for a route to the platform. `connect()` on a UDP socket only asks
 * the routing table; it sends no packet.
 */
import * as dgram from 'node:dgram';
import * as net from 'node:net';

export async function localAddressToward(remoteHost: string, remotePort: number): Promise<string> {
  const family = net.isIPv6(remoteHost) ? 'udp6' : 'udp4';
  const socket = dgram.createSocket(family);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(remotePort, remoteHost, () => resolve());
    });
    return socket.address().address;
  } finally {
    socket.close();
  }
}

export function isWildcard(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || address === '';
}

/**
 * Fills in the addresses the platform must be given when we bind to every interface: Contact/Via
 * (the local address routed to the platform) and the SDP c= media address (the contact address).
 */
export async function resolveAnnouncedAddresses<T extends { sipIp: string; contactIp?: string; mediaIp: string }>(local: T, platformHost: string, platformPort: number): Promise<T> {
  const resolved = { ...local };
  if (!resolved.contactIp && isWildcard(resolved.sipIp)) resolved.contactIp = await localAddressToward(platformHost, platformPort);
  if (isWildcard(resolved.mediaIp)) resolved.mediaIp = resolved.contactIp ?? resolved.sipIp;
  return resolved;
}
