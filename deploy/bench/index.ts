import { benchAlarmLatency } from './alarm-latency.ts';
import { benchEnergy } from './energy.ts';
import { benchIngest } from './ingest.ts';
import { benchLatency } from './latency.ts';

const BENCHES: Record<string, () => Promise<void>> = {
  // Needs ../shared/energy-labelled/ (skips clearly without it).
  anomalies: async () => (await import('./anomalies.ts')).benchAnomalies(),
  attendance: async () => (await import('./attendance.ts')).benchAttendance(Number(process.env.WARDEN_BENCH_ATTENDANCE_STUDENTS ?? 30_000)),
  cameras: async () => (await import('./cameras.ts')).benchCameras(Number(process.env.WARDEN_BENCH_CAMERAS ?? 1311), Number(process.env.WARDEN_BENCH_CAMERA_CYCLE ?? 9)),
  alarms: () =>
    benchAlarmLatency(Number(process.env.WARDEN_BENCH_ALARM_LOAD ?? 6000), Number(process.env.WARDEN_BENCH_SECONDS ?? 10), Number(process.env.WARDEN_BENCH_ALARM_RATE ?? 20)),
  energy: () => benchEnergy(Number(process.env.WARDEN_BENCH_ENERGY_METERS ?? 2000), Number(process.env.WARDEN_BENCH_ENERGY_DAYS ?? 365)),
  // Loaded on demand: it pulls in ONNX Runtime and the models.
  face: async () => (await import('./face.ts')).benchFace(),
  ingest: () => benchIngest(Number(process.env.WARDEN_BENCH_INGEST_RECORDS ?? 200_000)),
  latency: () => benchLatency(Number(process.env.WARDEN_BENCH_RATE ?? 500), Number(process.env.WARDEN_BENCH_SECONDS ?? 10)),
  storm: async () => (await import('./storm.ts')).benchStorm(Number(process.env.WARDEN_BENCH_STORM_EVENTS ?? 80_000)),
  overload: async () => (await import('./overload.ts')).benchOverload(Number(process.env.WARDEN_BENCH_SECONDS ?? 8)),
  // Starts influxd and victoria-metrics on 127.0.0.1 (Debian packages; skipped with a message when absent).
  'telemetry-backends': async () => (await import('./telemetry-backends.ts')).benchTelemetryBackends(Number(process.env.WARDEN_BENCH_TSDB_METERS ?? 5), Number(process.env.WARDEN_BENCH_TSDB_QUERIES ?? 40)),
  'uplink-lane': async () => (await import('./uplink-lane.ts')).benchUplinkLane(Number(process.env.WARDEN_BENCH_UPLINK_BACKLOG ?? 100_000)),
  video: async () => (await import('./video-streams.ts')).benchVideoStreams(Number(process.env.WARDEN_BENCH_VIDEO_MAX ?? 32), Number(process.env.WARDEN_BENCH_SECONDS ?? 6)),
};

/** `npm run bench [names...]`: each benchmark prints Warden's numbers beside a baseline measured in the same run. */
export async function runBench(which: string[]): Promise<void> {
  const names = which.length ? which : Object.keys(BENCHES);
  for (const n of names) {
    const run = BENCHES[n];
    if (!run) throw new Error(`unknown benchmark ${JSON.stringify(n)} (known: ${Object.keys(BENCHES).join(', ')})`);
    await run();
  }
}
