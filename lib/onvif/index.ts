/** ONVIF PTZ for GB28181 channels: the public surface of lib/onvif. */
export { OnvifCamera, OnvifCameraOptions, OnvifCameraInfo, OnvifCameraState, OnvifCameraStatus, CameraPreset, onvifAddressFromRtsp } from './onvif-camera';
export { PtzController, PtzControllerOptions, PtzOutcome } from './ptz-controller';
export { PtzRequest, PtzMotion, PtzStop, LensMotion, PresetAction, HomeAction, GuardPosition, PanDirection, TiltDirection, ZoomDirection, describePtzRequest, checkPtzRequest, PtzRequestCheck } from './ptz-request';
export { PresetEntry, PresetMap, presetNameFor, isPresetId, MIN_PRESET_ID, MAX_PRESET_ID } from './preset-map';
export { velocityFor, focusSpeedFor, PtzVelocity } from './ptz-velocity';
export { OnvifError, OnvifErrorCode, classifyOnvifFailure } from './onvif-error';
export { ChannelPtz, ChannelPtzOptions, ChannelPtzState, ChannelPtzStatus, ChannelPreset, channelPtzOptionsFor, channelPtzStatusText } from './channel-ptz';
