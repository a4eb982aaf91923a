/** The WVP-like platform emulator: public surface for tests, the demo and the benchmarks. */
export {
  PlatformEmulator, PlatformSubscription, gbSipDate,
} from './platform-emulator';
export type {
  PlatformEmulatorOptions, PlatformEmulatorEvents, RegisteredDevice, CatalogItem, CatalogResult, RecordItem, RecordInfoResult,
  InviteOptions, DeviceControlResult, RtpPacketRecord, MediaTransportMode, InviteSessionType,
  DeviceStatusResult, CatalogNotification, NotifyMeta, SubscribeOptions, SubscriptionChange, SubscriptionInfo, SubscriptionKind, SubscriptionState,
  CatalogChange, CatalogEventName, MobilePositionReport, PlatformAlarm, PlatformChannelState, PresetEntry, PresetQueryResult, WvpPtzCommand, WvpPtzSpeeds,
} from './platform-emulator';
export { wvpCmdString, wvpFrontEndCmdString, wvpPtzCommandString, wvpPresetCommandString, decodePtzCmd } from './ptz-command';
export { InviteSession } from './invite-session';
export type { InviteSessionEvents } from './invite-session';
export { startDemoPlatformScript } from './demo-script';
export type { DemoPlatformScript, DemoPlatformScriptOptions } from './demo-script';
