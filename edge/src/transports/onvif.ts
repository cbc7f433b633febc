import Type from 'typebox';
import { compile } from '@warden/contract';
import { CameraService } from '../camera/service.ts';
import { defineTransport } from './transport.ts';

/** Per-camera connection options; every driver on this transport includes them (drivers/onvif-camera.ts). */
export const OnvifConnectionOptions = Type.Object({
  xaddr: Type.String({ pattern: '^https?://', maxLength: 500, description: 'ONVIF device service address, e.g. http://10.1.2.3/onvif/device_service' }),
  username: Type.String({ minLength: 1, maxLength: 64, default: 'admin' }),
  password: Type.String({ minLength: 1, maxLength: 128, description: 'ONVIF (WS-Security digest), RTSP and snapshot password' }),
  probeSeconds: Type.Integer({ minimum: 5, maximum: 3600, default: 60, description: 'health probe period (ONVIF clock + RTSP DESCRIBE)' }),
  offlineAfter: Type.Integer({ minimum: 1, maximum: 20, default: 2, description: 'failed probes in a row before the camera is offline' }),
  events: Type.Boolean({ default: true, description: 'subscribe to motion and tamper events (PullPoint)' }),
});

const check = compile(OnvifConnectionOptions);

/**
 * ONVIF: the agent reaches each camera over HTTP/SOAP with the `onvif` client (src/camera/). Health
 * probes become availability; motion and tamper notifications and probe facts (clock drift, stream
 * size) are delivered as native messages on `onvif/{id}/event` and `onvif/{id}/health`, the health report
 * for the hub's camera status (on change and as a heartbeat) on `onvif/{id}/status`, decoded by the
 * camera driver like any device's; PTZ commands (`onvif/{id}/goto_preset`) are executed here and
 * answered on `onvif/{id}/reply`. A GB/T 28181 transport would sit beside this one with the same driver
 * topics.
 */
export default defineTransport({
  name: 'onvif',
  description: 'IP cameras over ONVIF (HTTP/SOAP) and RTSP, reached by the agent',
  options: OnvifConnectionOptions,
  deviceLogin: false,
  async start(deps) {
    const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
    const cameras = deps.devices.map((d) => {
      if (!check.check(d.options)) throw new Error(`device ${d.id}: ${d.driver.name} options lack ONVIF connection settings: ${check.explain(d.options)}`);
      const o = d.options as unknown as { xaddr: string; username: string; password: string; probeSeconds: number; offlineAfter: number; events: boolean };
      return { id: d.id, xaddr: o.xaddr, username: o.username, password: o.password, events: o.events, cycleMs: o.probeSeconds * 1000, offlineAfter: o.offlineAfter };
    });
    const deliver = (id: string, channel: string, payload: Record<string, unknown>): void => {
      try {
        deps.deliver(id, `onvif/${id}/${channel}`, json(payload));
      } catch (err) {
        deps.logger.error({ err, device: id }, 'could not store a camera record');
      }
    };
    const service = new CameraService({
      cameras,
      onNotification: (id, n) => deliver(id, 'event', { kind: n.kind, state: n.state, ts: Math.round(n.ts) }),
      onAvailability: deps.onAvailability,
      onTelemetry: (id, metrics, ts) => deliver(id, 'health', { ...metrics, ts: Math.round(ts) }),
      onHealthReport: (id, report, ts) => deliver(id, 'status', { ...report, ts: Math.round(ts) }),
      registry: deps.registry,
      logger: deps.logger,
    });
    service.start();
    return {
      async send(device, msg) {
        const ref = String(msg.payload.ref ?? '');
        const action = msg.topic.split('/')[2];
        if (action !== 'goto_preset') throw new Error(`onvif transport: no native command ${msg.topic}`);
        // The SOAP call runs after send() resolves; its outcome is the device's reply.
        void service
          .gotoPreset(device.id, String(msg.payload.preset))
          .then(
            () => deliver(device.id, 'reply', { ref, ok: true }),
            (err: Error) => deliver(device.id, 'reply', { ref, ok: false, err: err.message.slice(0, 400) }),
          );
      },
      stop: () => service.stop(),
    };
  },
});
