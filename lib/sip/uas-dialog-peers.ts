/**
 * The peers of a dialog a request created, seen from its UAS (RFC 3261 §12.1.1): the remote
 * address is the request's From (with its tag), the local address its To with our tag, and the
 * remote target its Contact URI (else the From URI). Shared by INVITE and SUBSCRIBE dialogs.
 */
import { SipMessage } from './sip-codec';

export interface UasDialogPeers {
  remoteAddress: { uri: string; tag?: string };
  localAddress: { uri: string; tag: string };
  remoteTarget: string;
}

export function uasDialogPeers(request: SipMessage, localTag: string): UasDialogPeers {
  const { from, to, contact } = request.headers;
  const remoteAddress = { uri: from?.uri ?? '', tag: from?.params.tag ?? undefined };
  const target = Array.isArray(contact) ? contact[0]?.uri : undefined;
  return {
    remoteAddress,
    localAddress: { uri: to?.uri ?? '', tag: localTag },
    remoteTarget: target || remoteAddress.uri,
  };
}
