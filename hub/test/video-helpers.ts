import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';

/** The live video tests need ffmpeg (Debian package ffmpeg); without it they skip with this said. */
export const hasFfmpeg = spawnSync('ffmpeg', ['-version']).status === 0;

/**
 * The relay's ffmpeg processes: children of this process (the hub, and a relay node started in-process, run in it)
 * pulling from the test's camera server. `ps --ppid` lists only direct children, so a leaked relay ffmpeg shows here
 * and nowhere else.
 */
export function relayFfmpegs(sourcePort: number, camera?: string): string[] {
  const r = spawnSync('ps', ['--ppid', String(process.pid), '-o', 'pid=,args='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter((l) => l.includes('ffmpeg') && l.includes(`-i http://127.0.0.1:${sourcePort}/${camera ?? ''}`))
    .map((l) => l.trim().split(/\s+/)[0]!);
}

export interface Viewer {
  ws: WebSocket;
  bytes: number;
  frames: number;
  badFrames: number;
  closed: Promise<{ code: number; reason: string }>;
}

/** A live video viewer on the relay's WebSocket, counting what arrives. */
export function view(url: string): Viewer {
  const ws = new WebSocket(url);
  const v: Viewer = {
    ws,
    bytes: 0,
    frames: 0,
    badFrames: 0,
    closed: new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
  };
  ws.on('message', (data: Buffer) => {
    v.bytes += data.length;
    v.frames++;
    // Whole MPEG-TS packets, each starting with the sync byte.
    if (data.length % 188 !== 0 || data[0] !== 0x47) v.badFrames++;
  });
  ws.on('error', () => undefined);
  return v;
}

/**
 * A real ffmpeg stream for the relay to pull, over real HTTP: every GET runs its own ffmpeg (test pattern, MPEG-TS)
 * piped into the response, ended when the client goes. Stands for a camera's stream; RTSP from the virtual ONVIF
 * camera is covered by deploy/test/cameras-live.test.ts and cameras-node.test.ts.
 */
export async function cameraServer(): Promise<{ server: Server; port: number; sources: Set<ChildProcess> }> {
  const sources = new Set<ChildProcess>();
  const server = createServer((req, res) => {
    const ff = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=25', '-f', 'mpegts', '-codec:v', 'mpeg1video', '-b:v', '200k', '-'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    sources.add(ff);
    ff.once('exit', () => sources.delete(ff));
    res.writeHead(200, { 'content-type': 'video/mp2t' });
    ff.stdout!.pipe(res);
    res.once('close', () => ff.kill('SIGKILL'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, sources };
}
