export { startOnvifSimulator, cameraUrn, type OnvifSimulator, type OnvifSimulatorOptions, type OnvifSimulatorStats, type VirtualCameraSpec, type CameraView } from './simulator.ts';
export { startDiscoveryResponder, type DiscoveryResponder } from './discovery.ts';
export { startRtspVideo, type RtspVideo } from './rtsp.ts';
export { passwordDigest } from './wsse.ts';
