/** The WVP-like platform emulator: public surface for tests, the demo and the benchmarks. */
export {
  PlatformEmulator, gbSipDate,
} from './platform-emulator';
export type {
  PlatformEmulatorOptions, PlatformEmulatorEvents, RegisteredDevice, CatalogItem, CatalogResult, RecordItem, RecordInfoResult,
  InviteOptions, DeviceControlResult, RtpPacketRecord, MediaTransportMode, InviteSessionType,
} from './platform-emulator';
export { InviteSession } from './invite-session';
export type { InviteSessionEvents } from './invite-session';
export { startDemoPlatformScript } from './demo-script';
export type { DemoPlatformScript, DemoPlatformScriptOptions } from './demo-script';
