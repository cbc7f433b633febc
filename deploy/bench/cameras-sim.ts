/**
 * The virtual cameras for the camera benchmark, in their own process so the edge's CPU is measured
 * alone: `N` cameras on one HTTP server plus one RTSP test stream. Prints `{port, rtspPort, ids}` as
 * one JSON line once ready; stops (and ends ffmpeg) on SIGTERM or when stdin closes.
 */
import { startOnvifSimulator } from '@warden/simulators/onvif/index.ts';

const n = Number(process.argv[2] ?? 1311);
const sim = await startOnvifSimulator({
  cameras: Array.from({ length: n }, (_, i) => ({ id: `cam-${String(i + 1).padStart(4, '0')}`, password: `pw-${i + 1}`, ptz: i % 10 === 0 })),
  video: { width: 320, height: 180, fps: 5 },
});
await sim.videoReady();
process.stdout.write(`${JSON.stringify({ port: sim.port, rtspPort: sim.rtspPort, ids: sim.cameraIds() })}\n`);
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await sim.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.stdin.on('end', () => void stop());
process.stdin.resume();
