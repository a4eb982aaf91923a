/**
 * The camera model behind the simulated ONVIF server: profiles, presets, the current motion, and the
 * handlers for each SOAP action. Every handler checks its arguments the way a real camera does (ONVIF PTZ
 * Service Spec §5.3–5.6, Imaging Service Spec §5.3) and throws a SOAP fault otherwise, so a client that
 * sends a wrong token or an out-of-range velocity fails here as it would on a real camera.
 */
import { senderFault, SoapFaultSignal, xmlEscape } from './soap-envelope';

export type SimService = 'device' | 'media' | 'ptz' | 'imaging';

export interface SimPreset {
  token: string;
  name: string;
}

export interface SimVector {
  x: number;
  y: number;
  zoom: number;
}

export interface SimMotion extends SimVector {
  startedAt: number;
  /** From the ContinuousMove Timeout element, if any. */
  timeoutMs?: number;
}

/** One PTZ or Imaging call as received and parsed, faulted or not. */
export interface RecordedOnvifCall {
  service: 'ptz' | 'imaging';
  action: string;
  at: number;
  profileToken?: string;
  videoSourceToken?: string;
  velocity?: { x?: number; y?: number; zoom?: number };
  timeout?: string;
  timeoutMs?: number;
  presetToken?: string;
  presetName?: string;
  focusSpeed?: number;
  /** The fault subcode answered, if the camera rejected the call. */
  fault?: string;
}

export interface SimModelOptions {
  ptz: boolean;
  imaging: boolean;
  presets: SimPreset[];
  maxPresets: number;
}

export const PTZ_PROFILE_TOKEN = 'Profile_1';
export const SUB_PROFILE_TOKEN = 'Profile_2';
export const VIDEO_SOURCE_TOKEN = 'VideoSource_1';

type Args = Record<string, unknown>;

function field(args: Args, name: string): unknown {
  return args[name];
}

/** Text content of a parsed element (fast-xml-parser gives a string, or an object with '#text'). */
export function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v && typeof v === 'object' && '#text' in v) {
    const t = (v as Record<string, unknown>)['#text'];
    return typeof t === 'string' || typeof t === 'number' ? String(t) : undefined;
  }
  return undefined;
}

function attr(v: unknown, name: string): string | undefined {
  if (v && typeof v === 'object') {
    const a = (v as Record<string, unknown>)[`@_${name}`];
    return typeof a === 'string' ? a : undefined;
  }
  return undefined;
}

function invalidArg(reason: string, subcode: string): SoapFaultSignal {
  return new SoapFaultSignal(senderFault(reason, 'ter:InvalidArgVal', subcode));
}

/** Parses an xs:duration of the PTnS / PTnMnS form (what PTZ Timeout uses). */
export function parseDurationMs(text: string): number | undefined {
  const m = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/.exec(text.trim());
  if (!m || (!m[1] && !m[2] && !m[3])) return undefined;
  return Math.round(((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000);
}

function velocityComponent(raw: string | undefined, what: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw invalidArg(`${what} is not a number`, 'ter:InvalidVelocity');
  if (n < -1 || n > 1) throw invalidArg(`${what} ${n} outside the generic velocity space [-1, 1]`, 'ter:InvalidVelocity');
  return n;
}

export class OnvifSimModel {
  readonly calls: RecordedOnvifCall[] = [];
  motion: SimMotion | null = null;
  focusSpeed = 0;
  home: SimVector = { x: 0, y: 0, zoom: 0 };
  position: SimVector = { x: 0, y: 0, zoom: 0 };
  private readonly presetList: SimPreset[];
  private nextPresetNumber = 1;
  private motionTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: SimModelOptions) {
    this.presetList = options.presets.map((p) => ({ ...p }));
  }

  presets(): SimPreset[] {
    return this.presetList.map((p) => ({ ...p }));
  }

  dispose(): void {
    if (this.motionTimer) clearTimeout(this.motionTimer);
    this.motionTimer = undefined;
  }

  /** Which actions a service path answers; PTZ and Imaging vanish when the camera has none. */
  handles(service: SimService, action: string): boolean {
    const table: Record<SimService, string[]> = {
      device: ['GetSystemDateAndTime', 'GetCapabilities', 'GetServices', 'GetDeviceInformation'],
      media: ['GetProfiles', 'GetVideoSources'],
      ptz: this.options.ptz
        ? ['GetNodes', 'GetConfigurations', 'ContinuousMove', 'Stop', 'GetPresets', 'SetPreset', 'GotoPreset', 'RemovePreset', 'GotoHomePosition', 'SetHomePosition', 'GetStatus']
        : [],
      imaging: this.options.imaging ? ['GetImagingSettings', 'Move', 'Stop', 'GetMoveOptions', 'GetStatus'] : [],
    };
    return table[service].includes(action);
  }

  /** Runs one action and returns the inner body XML; throws SoapFaultSignal for a fault. */
  run(service: SimService, action: string, args: Args, baseUrl: string): string {
    if (service === 'device') return this.device(action, baseUrl);
    if (service === 'media') return this.media(action);
    const call: RecordedOnvifCall = { service, action, at: Date.now() };
    this.calls.push(call);
    try {
      return service === 'ptz' ? this.ptz(action, args, call) : this.imagingAction(action, args, call);
    } catch (e) {
      if (e instanceof SoapFaultSignal) call.fault = e.fault.subcodes[e.fault.subcodes.length - 1] ?? e.fault.code;
      throw e;
    }
  }

  private device(action: string, baseUrl: string): string {
    switch (action) {
      case 'GetSystemDateAndTime': {
        const d = new Date();
        return (
          '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>NTP</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
          '<tt:TimeZone><tt:TZ>UTC0</tt:TZ></tt:TimeZone><tt:UTCDateTime>' +
          `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
          `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>` +
          '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
        );
      }
      case 'GetCapabilities':
        return (
          '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
          `<tt:Device><tt:XAddr>${baseUrl}/onvif/device_service</tt:XAddr></tt:Device>` +
          `<tt:Media><tt:XAddr>${baseUrl}/onvif/media_service</tt:XAddr></tt:Media>` +
          (this.options.imaging ? `<tt:Imaging><tt:XAddr>${baseUrl}/onvif/imaging_service</tt:XAddr></tt:Imaging>` : '') +
          (this.options.ptz ? `<tt:PTZ><tt:XAddr>${baseUrl}/onvif/ptz_service</tt:XAddr></tt:PTZ>` : '') +
          '</tds:Capabilities></tds:GetCapabilitiesResponse>'
        );
      case 'GetServices': {
        const svc = (ns: string, path: string) =>
          `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${baseUrl}${path}</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>`;
        return (
          '<tds:GetServicesResponse>' +
          svc('http://www.onvif.org/ver10/device/wsdl', '/onvif/device_service') +
          svc('http://www.onvif.org/ver10/media/wsdl', '/onvif/media_service') +
          (this.options.ptz ? svc('http://www.onvif.org/ver20/ptz/wsdl', '/onvif/ptz_service') : '') +
          (this.options.imaging ? svc('http://www.onvif.org/ver20/imaging/wsdl', '/onvif/imaging_service') : '') +
          '</tds:GetServicesResponse>'
        );
      }
      default:
        return (
          '<tds:GetDeviceInformationResponse><tds:Manufacturer>SimCam</tds:Manufacturer><tds:Model>' +
          (this.options.ptz ? 'SIM-PTZ-1' : 'SIM-FIXED-1') +
          '</tds:Model><tds:FirmwareVersion>1.0</tds:FirmwareVersion><tds:SerialNumber>0001</tds:SerialNumber><tds:HardwareId>1</tds:HardwareId></tds:GetDeviceInformationResponse>'
        );
    }
  }

  private media(action: string): string {
    if (action === 'GetVideoSources') {
      return `<trt:GetVideoSourcesResponse><trt:VideoSources token="${VIDEO_SOURCE_TOKEN}"><tt:Framerate>25</tt:Framerate><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`;
    }
    const profile = (token: string, name: string, width: number, height: number, withPtz: boolean) =>
      `<trt:Profiles token="${token}" fixed="true"><tt:Name>${name}</tt:Name>` +
      `<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount><tt:SourceToken>${VIDEO_SOURCE_TOKEN}</tt:SourceToken><tt:Bounds x="0" y="0" width="1920" height="1080"/></tt:VideoSourceConfiguration>` +
      `<tt:VideoEncoderConfiguration token="VideoEncoder_${token}"><tt:Name>${name}</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>${width}</tt:Width><tt:Height>${height}</tt:Height></tt:Resolution><tt:Quality>4</tt:Quality></tt:VideoEncoderConfiguration>` +
      (withPtz
        ? '<tt:PTZConfiguration token="PTZConfig_1"><tt:Name>PTZ</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>PTZNode_1</tt:NodeToken>' +
          '<tt:DefaultContinuousPanTiltVelocitySpace>http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace</tt:DefaultContinuousPanTiltVelocitySpace>' +
          '<tt:DefaultContinuousZoomVelocitySpace>http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace</tt:DefaultContinuousZoomVelocitySpace>' +
          '<tt:DefaultPTZTimeout>PT5S</tt:DefaultPTZTimeout></tt:PTZConfiguration>'
        : '') +
      '</trt:Profiles>';
    // Only the main profile carries the PTZ configuration, as on many cameras: the client must pick it.
    return (
      '<trt:GetProfilesResponse>' +
      profile(SUB_PROFILE_TOKEN, 'subStream', 640, 360, false) +
      profile(PTZ_PROFILE_TOKEN, 'mainStream', 1920, 1080, this.options.ptz) +
      '</trt:GetProfilesResponse>'
    );
  }

  private requirePtzProfile(args: Args, call: RecordedOnvifCall): void {
    const token = textOf(field(args, 'ProfileToken'));
    call.profileToken = token;
    if (token === undefined) throw invalidArg('ProfileToken missing', 'ter:NoProfile');
    if (token !== PTZ_PROFILE_TOKEN) {
      if (token === SUB_PROFILE_TOKEN) throw invalidArg(`profile ${token} has no PTZ configuration`, 'ter:NoPTZProfile');
      throw invalidArg(`no profile ${token}`, 'ter:NoProfile');
    }
  }

  private requirePreset(token: string | undefined): SimPreset {
    const preset = this.presetList.find((p) => p.token === token);
    if (!preset) throw invalidArg(`no preset with token ${String(token)}`, 'ter:NoToken');
    return preset;
  }

  private startMotion(v: SimVector, timeoutMs: number | undefined): void {
    if (this.motionTimer) clearTimeout(this.motionTimer);
    this.motionTimer = undefined;
    if (v.x === 0 && v.y === 0 && v.zoom === 0) {
      this.motion = null;
      return;
    }
    this.motion = { ...v, startedAt: Date.now(), timeoutMs };
    if (timeoutMs !== undefined) {
      // PTZ Service Spec §5.3.3: the device stops the move when the Timeout expires.
      this.motionTimer = setTimeout(() => {
        this.motionTimer = undefined;
        this.motion = null;
      }, timeoutMs);
      this.motionTimer.unref();
    }
  }

  private ptz(action: string, args: Args, call: RecordedOnvifCall): string {
    switch (action) {
      case 'GetNodes':
        return '<tptz:GetNodesResponse><tptz:PTZNode token="PTZNode_1"><tt:Name>PTZ</tt:Name><tt:MaximumNumberOfPresets>255</tt:MaximumNumberOfPresets><tt:HomeSupported>true</tt:HomeSupported></tptz:PTZNode></tptz:GetNodesResponse>';
      case 'GetConfigurations':
        return '<tptz:GetConfigurationsResponse><tptz:PTZConfiguration token="PTZConfig_1"><tt:Name>PTZ</tt:Name><tt:UseCount>1</tt:UseCount><tt:NodeToken>PTZNode_1</tt:NodeToken></tptz:PTZConfiguration></tptz:GetConfigurationsResponse>';
      case 'ContinuousMove': {
        this.requirePtzProfile(args, call);
        const velocity = field(args, 'Velocity');
        if (!velocity || typeof velocity !== 'object') throw invalidArg('Velocity missing', 'ter:InvalidVelocity');
        const v = velocity as Args;
        const panTilt = v['PanTilt'];
        const zoom = v['Zoom'];
        const x = velocityComponent(attr(panTilt, 'x'), 'PanTilt x');
        const y = velocityComponent(attr(panTilt, 'y'), 'PanTilt y');
        const z = velocityComponent(attr(zoom, 'x'), 'Zoom x');
        call.velocity = { x, y, zoom: z };
        const timeoutText = textOf(field(args, 'Timeout'));
        let timeoutMs: number | undefined;
        if (timeoutText !== undefined) {
          call.timeout = timeoutText;
          timeoutMs = parseDurationMs(timeoutText);
          if (timeoutMs === undefined) throw invalidArg(`Timeout "${timeoutText}" is not an xs:duration`, 'ter:InvalidArgVal');
          call.timeoutMs = timeoutMs;
        }
        this.startMotion({ x: x ?? 0, y: y ?? 0, zoom: z ?? 0 }, timeoutMs);
        return '<tptz:ContinuousMoveResponse/>';
      }
      case 'Stop': {
        this.requirePtzProfile(args, call);
        this.startMotion({ x: 0, y: 0, zoom: 0 }, undefined);
        return '<tptz:StopResponse/>';
      }
      case 'GetPresets': {
        this.requirePtzProfile(args, call);
        const items = this.presetList.map(
          (p) => `<tptz:Preset token="${xmlEscape(p.token)}"><tt:Name>${xmlEscape(p.name)}</tt:Name><tt:PTZPosition><tt:PanTilt x="0" y="0"/><tt:Zoom x="0"/></tt:PTZPosition></tptz:Preset>`,
        );
        return `<tptz:GetPresetsResponse>${items.join('')}</tptz:GetPresetsResponse>`;
      }
      case 'SetPreset': {
        this.requirePtzProfile(args, call);
        const name = textOf(field(args, 'PresetName'));
        const token = textOf(field(args, 'PresetToken'));
        call.presetName = name;
        call.presetToken = token;
        if (name !== undefined && name.length > 64) throw invalidArg('preset name too long', 'ter:TooLongName');
        if (token !== undefined) {
          const existing = this.requirePreset(token);
          if (name !== undefined && name !== '') {
            if (this.presetList.some((p) => p.name === name && p.token !== token)) throw invalidArg(`preset name ${name} exists`, 'ter:PresetExist');
            existing.name = name;
          }
          return `<tptz:SetPresetResponse><tptz:PresetToken>${xmlEscape(existing.token)}</tptz:PresetToken></tptz:SetPresetResponse>`;
        }
        if (name !== undefined && this.presetList.some((p) => p.name === name)) throw invalidArg(`preset name ${name} exists`, 'ter:PresetExist');
        if (this.presetList.length >= this.options.maxPresets) throw new SoapFaultSignal({ httpStatus: 500, code: 'Receiver', subcodes: ['ter:Action', 'ter:TooManyPresets'], reason: 'too many presets' });
        let newToken = `PresetToken_${this.nextPresetNumber++}`;
        while (this.presetList.some((p) => p.token === newToken)) newToken = `PresetToken_${this.nextPresetNumber++}`;
        this.presetList.push({ token: newToken, name: name ?? '' });
        return `<tptz:SetPresetResponse><tptz:PresetToken>${newToken}</tptz:PresetToken></tptz:SetPresetResponse>`;
      }
      case 'GotoPreset': {
        this.requirePtzProfile(args, call);
        call.presetToken = textOf(field(args, 'PresetToken'));
        this.requirePreset(call.presetToken);
        this.startMotion({ x: 0, y: 0, zoom: 0 }, undefined);
        return '<tptz:GotoPresetResponse/>';
      }
      case 'RemovePreset': {
        this.requirePtzProfile(args, call);
        call.presetToken = textOf(field(args, 'PresetToken'));
        const preset = this.requirePreset(call.presetToken);
        this.presetList.splice(this.presetList.indexOf(preset), 1);
        return '<tptz:RemovePresetResponse/>';
      }
      case 'GotoHomePosition':
        this.requirePtzProfile(args, call);
        this.startMotion({ x: 0, y: 0, zoom: 0 }, undefined);
        this.position = { ...this.home };
        return '<tptz:GotoHomePositionResponse/>';
      case 'SetHomePosition':
        this.requirePtzProfile(args, call);
        this.home = { ...this.position };
        return '<tptz:SetHomePositionResponse/>';
      default: {
        this.requirePtzProfile(args, call);
        const status = this.motion ? 'MOVING' : 'IDLE';
        return (
          '<tptz:GetStatusResponse><tptz:PTZStatus><tt:Position><tt:PanTilt x="0" y="0"/><tt:Zoom x="0"/></tt:Position>' +
          `<tt:MoveStatus><tt:PanTilt>${status}</tt:PanTilt><tt:Zoom>${status}</tt:Zoom></tt:MoveStatus><tt:UtcTime>${new Date().toISOString()}</tt:UtcTime></tptz:PTZStatus></tptz:GetStatusResponse>`
        );
      }
    }
  }

  private imagingAction(action: string, args: Args, call: RecordedOnvifCall): string {
    const source = textOf(field(args, 'VideoSourceToken'));
    call.videoSourceToken = source;
    if (source !== VIDEO_SOURCE_TOKEN) throw invalidArg(`no video source ${String(source)}`, 'ter:NoSource');
    switch (action) {
      case 'GetImagingSettings':
        return '<timg:GetImagingSettingsResponse><timg:ImagingSettings><tt:Brightness>50</tt:Brightness><tt:Focus><tt:AutoFocusMode>MANUAL</tt:AutoFocusMode></tt:Focus></timg:ImagingSettings></timg:GetImagingSettingsResponse>';
      case 'GetMoveOptions':
        return '<timg:GetMoveOptionsResponse><timg:MoveOptions><tt:Continuous><tt:Speed><tt:Min>-1</tt:Min><tt:Max>1</tt:Max></tt:Speed></tt:Continuous></timg:MoveOptions></timg:GetMoveOptionsResponse>';
      case 'Move': {
        const focus = field(args, 'Focus');
        const continuous = focus && typeof focus === 'object' ? (focus as Args)['Continuous'] : undefined;
        const speedText = continuous && typeof continuous === 'object' ? textOf((continuous as Args)['Speed']) : undefined;
        if (speedText === undefined) throw invalidArg('only continuous focus moves are supported', 'ter:NoImagingForSource');
        const speed = velocityComponent(speedText, 'focus speed');
        call.focusSpeed = speed;
        this.focusSpeed = speed ?? 0;
        return '<timg:MoveResponse/>';
      }
      case 'Stop':
        this.focusSpeed = 0;
        return '<timg:StopResponse/>';
      default:
        return '<timg:GetStatusResponse><timg:Status><tt:FocusStatus20><tt:Position>0</tt:Position><tt:MoveStatus>IDLE</tt:MoveStatus></tt:FocusStatus20></timg:Status></timg:GetStatusResponse>';
    }
  }
}
