/**
 * SOAP 1.2 envelopes the simulated camera answers with (ONVIF Core Spec §5.11: faults carry a
 * ter: subcode, HTTP 400 for sender faults, 500 for receiver faults).
 */
const NAMESPACES =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" ' +
  'xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" ' +
  'xmlns:tptz="http://www.onvif.org/ver20/ptz/wsdl" xmlns:timg="http://www.onvif.org/ver20/imaging/wsdl" ' +
  'xmlns:ter="http://www.onvif.org/ver10/error"';

export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function soapEnvelope(body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope ${NAMESPACES}><s:Body>${body}</s:Body></s:Envelope>`;
}

export interface SoapFault {
  httpStatus: number;
  code: 'Sender' | 'Receiver';
  subcodes: string[];
  reason: string;
}

export function soapFaultXml(f: SoapFault): string {
  let subcode = '';
  for (const value of [...f.subcodes].reverse()) {
    subcode = `<s:Subcode><s:Value>${value}</s:Value>${subcode}</s:Subcode>`;
  }
  return soapEnvelope(
    `<s:Fault><s:Code><s:Value>s:${f.code}</s:Value>${subcode}</s:Code>` +
      `<s:Reason><s:Text xml:lang="en">${xmlEscape(f.reason)}</s:Text></s:Reason></s:Fault>`,
  );
}

/** A sender fault: the request was wrong (bad token, velocity out of range, bad credentials). */
export function senderFault(reason: string, ...subcodes: string[]): SoapFault {
  return { httpStatus: 400, code: 'Sender', subcodes, reason };
}

export class SoapFaultSignal extends Error {
  constructor(readonly fault: SoapFault) {
    super(fault.reason);
  }
}
