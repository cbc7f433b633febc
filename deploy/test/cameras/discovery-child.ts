/**
 * Runs inside a private network namespace (cameras-onvif.test.ts): virtual cameras with their
 * WS-Discovery responder, and the edge's discovery through the `onvif` client; prints the proposals.
 */
import { discoverCameras } from '@warden/edge/camera/index.ts';
import { startOnvifSimulator } from '@warden/simulators/onvif/index.ts';

const sim = await startOnvifSimulator({
  cameras: Array.from({ length: 40 }, (_, i) => ({ id: `cam-${i + 1}`, name: `Camera ${i + 1}`, password: `pw-${i + 1}`, ptz: i % 2 === 0 })),
  video: false,
  discovery: {},
});
sim.setOnline('cam-40', false);
try {
  const found = await discoverCameras({ timeoutMs: 1500 });
  process.stdout.write(JSON.stringify({ found, port: sim.port }));
} finally {
  await sim.stop();
}
