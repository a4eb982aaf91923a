export { SimulatedOnvifCamera, SimulatedOnvifCameraOptions, SimCameraMode, SimAuthScheme, RecordedSoapRequest } from './simulated-onvif-camera';
export { RecordedOnvifCall, SimPreset, SimMotion, PTZ_PROFILE_TOKEN, SUB_PROFILE_TOKEN, VIDEO_SOURCE_TOKEN } from './onvif-sim-model';
export { passwordDigest, verifyUsernameToken } from './ws-username-token';
