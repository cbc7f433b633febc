/**
 * Runs inside a private network namespace (cameras-onvif.test.ts): virtual cameras with their
 * WS-Discovery responder, and the edge's discovery through the `onvif` client; prints what was found and
 * the inventory proposals the gateway would publish.
 */
import { pino } from 'pino';
import { CameraProposals, discoverCameras } from '@warden/edge/camera/index.ts';
import { startOnvifSimulator } from '@warden/simulators/onvif/index.ts';

const sim = await startOnvifSimulator({
  cameras: Array.from({ length: 40 }, (_, i) => ({ id: `cam-${i + 1}`, name: `Camera ${i + 1}`, password: `pw-${i + 1}`, ptz: i % 2 === 0 })),
  video: false,
  discovery: {},
});
sim.setOnline('cam-40', false);
try {
  const found = await discoverCameras({ timeoutMs: 1500 });
  // The gateway's proposer: cam-1..cam-5 are configured on it, the rest it proposes to the hub.
  let changes = 0;
  const proposer = new CameraProposals({
    config: { enabled: true, everySeconds: 300, timeoutMs: 1500 },
    configured: [1, 2, 3, 4, 5].map((i) => sim.deviceUrl(`cam-${i}`)),
    onChange: () => changes++,
    logger: pino({ level: 'silent' }),
  });
  await proposer.once();
  await proposer.once(); // the same cameras again: no change to publish
  process.stdout.write(JSON.stringify({ found, port: sim.port, proposals: proposer.list(), changes }));
} finally {
  await sim.stop();
}
