/**
 * The parts of `onvif` 0.8.3 (agsh/onvif) that lib/onvif uses, typed without `any`. The package's own
 * index.d.ts types replies as `any`; this ambient declaration takes precedence and keeps replies `unknown`
 * so lib/onvif narrows them. Callbacks follow the package: (err, data, xml).
 */
declare module 'onvif' {
  import { EventEmitter } from 'events';

  export type OnvifCallback = (err: Error | null, data?: unknown, xml?: string) => void;

  export interface CamOptions {
    hostname: string;
    username?: string;
    password?: string;
    port?: number;
    path?: string;
    /** Socket idle timeout in ms (the package's default is 120000). */
    timeout?: number;
    useWSSecurity?: boolean;
    /** false: we run the connect sequence ourselves. */
    autoconnect?: boolean;
    /** Use our hostname/port for every service, whatever the XAddr says. */
    preserveAddress?: boolean;
  }

  export interface ServiceUrl {
    path?: string | null;
    href?: string;
  }

  export interface Vector {
    x?: number;
    y?: number;
    zoom?: number;
  }

  export class Cam extends EventEmitter {
    constructor(options: CamOptions, callback?: (err: Error | null) => void);
    uri?: Record<string, ServiceUrl | undefined>;
    capabilities?: unknown;
    profiles?: unknown;
    presets?: unknown;
    timeShift?: number;
    getSystemDateAndTime(callback: OnvifCallback): void;
    getCapabilities(callback: OnvifCallback): void;
    getServices(includeCapability: boolean, callback: OnvifCallback): void;
    getDeviceInformation(callback: OnvifCallback): void;
    getProfiles(callback: OnvifCallback): void;
    continuousMove(options: Vector & { profileToken: string; timeout?: number }, callback: OnvifCallback): void;
    stop(options: { profileToken: string; panTilt?: boolean; zoom?: boolean }, callback: OnvifCallback): void;
    getPresets(options: { profileToken: string }, callback: OnvifCallback): void;
    setPreset(options: { profileToken: string; presetName: string; presetToken?: string }, callback: OnvifCallback): void;
    gotoPreset(options: { profileToken: string; preset: string; speed?: Vector }, callback: OnvifCallback): void;
    removePreset(options: { profileToken: string; presetToken: string }, callback: OnvifCallback): void;
    gotoHomePosition(options: { profileToken: string; speed?: Vector }, callback: OnvifCallback): void;
    setHomePosition(options: { profileToken: string }, callback: OnvifCallback): void;
    getStatus(options: { profileToken: string }, callback: OnvifCallback): void;
    imagingMove(options: { token: string; continuous?: { speed: number } }, callback: OnvifCallback): void;
    imagingStop(options: { token: string }, callback: OnvifCallback): void;
  }
}
