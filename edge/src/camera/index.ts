export { CameraService, cycleOffset, type CameraConfig, type CameraServiceOptions, type CameraStatus, type HealthReport, type ProbeOutcome } from './service.ts';
export { CameraEventLoop, type EventLoopStatus, type EventMode } from './events.ts';
export { parseNotification, type CameraNotification } from './notifications.ts';
export { OnvifCameraClient, type CameraEndpoint, type DeviceDetails, type StreamProfile } from './onvif-client.ts';
export { probeRtsp, type RtspProbeResult } from './rtsp-probe.ts';
export { fetchSnapshot } from './snapshot.ts';
export { discoverCameras, parseProbeMatch, type DiscoveredCamera } from './discovery.ts';
export { FastPathMiss, parseSystemTime, RtspSession, SoapClock } from './light-probe.ts';
export { CameraProposals, CamerasSection, proposalId, toProposal, type CamerasConfig } from './proposals.ts';
