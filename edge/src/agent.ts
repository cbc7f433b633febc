import { existsSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import type { EdgeConfig } from './config.ts';
import { Availability } from './availability.ts';
import { CameraProposals } from './camera/proposals.ts';
import { CommandRouter } from './commands.ts';
import { buildDeviceTable } from './devices.ts';
import type { Emission, NativeMessage } from './driver.ts';
import { HubLink } from './hub-link.ts';
import { FireFailsafe } from './failsafe/fire.ts';
import { FieldIngest } from './ingest.ts';
import { EdgeMetrics, serveMetrics, type MetricsServer } from './metrics.ts';
import { Outbox } from './outbox.ts';
import { FaceService } from './face/service.ts';
import { GallerySyncClient } from './face/sync.ts';
import { TRANSPORTS, type TransportRuntime } from './transports/index.ts';
import { AGENT_VERSION } from './version.ts';

export interface EdgeAgent {
  /** Where field devices connect (the actual port when the config said 0). */
  field: { host: string; port: number };
  /** Port of the /metrics HTTP server, or null when metrics are disabled. */
  metricsPort: number | null;
  backlog(): number;
  hubConnected(): boolean;
  devicesOnline(): number;
  metrics: EdgeMetrics;
  stop(): Promise<void>;
}

export interface StartEdgeOptions {
  logger?: Logger;
}

// Keeps a batch comfortably under the 256 KiB packet limit brokers in Warden apply.
const MAX_BATCH_BYTES = 192 * 1024;

/**
 * Starts an edge agent: field broker -> drivers -> outbox -> hub link, plus commands the other way.
 * Works with the hub down (records queue in the outbox) and can be restarted from the same config and
 * outbox file: unacknowledged records are sent again and sequence numbers continue.
 */
export async function startEdgeAgent(config: EdgeConfig, opts: StartEdgeOptions = {}): Promise<EdgeAgent> {
  const gw = config.gateway.id;
  const logger = (opts.logger ?? pino({ name: 'warden-edge', level: process.env.WARDEN_LOG_LEVEL || 'info' })).child({ gw });
  const startedAt = Date.now();
  const devices = buildDeviceTable(config.devices);
  const availability = new Availability();
  const outbox = Outbox.open(config.outbox.path, {
    synchronous: config.outbox.synchronous,
    maxRecords: config.outbox.maxRecords,
    maxBytes: config.outbox.maxBytes,
    onShed: (counts, why) => logger.warn({ shed: counts, why, backlog: outbox.backlog() }, 'outbox full: oldest records of the lowest classes shed (counted; safety events never)'),
  });

  let hub: HubLink | undefined;
  // Cameras found by WS-Discovery and not configured here: listed in the inventory as proposals (src/camera/proposals.ts).
  const proposals = new CameraProposals({
    config: config.cameras.discovery,
    configured: config.devices.filter((d) => typeof d.options.xaddr === 'string').map((d) => d.options.xaddr as string),
    onChange: () => hub?.publishInventory(),
    logger: logger.child({ part: 'camera-discovery' }),
  });
  // Started transports by name, in start order; a device's commands go out over its driver's transport.
  const transports = new Map<string, TransportRuntime>();
  let metricsServer: MetricsServer | undefined;
  const metrics = new EdgeMetrics({
    backlog: () => outbox.backlog(),
    shed: () => outbox.shedCounts(),
    hubConnected: () => hub?.connected() ?? false,
    devicesOnline: () => availability.count(),
  });

  const ingest = new FieldIngest({
    devices,
    outbox,
    metrics,
    logger,
    onRecords: (records) => {
      hub?.notify();
      failsafe.onRecords(records);
    },
    onReply: (deviceId, reply) => commands.onReply(deviceId, reply),
  });

  // Records the agent itself originates (availability, command results) are committed here; a failing
  // outbox is logged rather than thrown into broker or timer callbacks, where it would end the process.
  const emit = (deviceId: string, emissions: Emission[]): void => {
    try {
      ingest.commit(deviceId, emissions);
    } catch (err) {
      logger.error({ err, device: deviceId }, 'could not commit a record to the outbox');
    }
  };

  const commands = new CommandRouter({
    devices,
    isOnline: (id) => availability.isOnline(id),
    sendNative: (device, msg) => sendNative(device.id, msg),
    emit,
    refuse: (reason, fields, msg) => ingest.refuse(reason, fields, msg),
    metrics,
    logger,
    timeoutMs: config.commands.timeoutMs,
  });

  const failsafe = new FireFailsafe({
    config: config.failsafe.fire,
    devices,
    hubConnected: () => hub?.connected() ?? false,
    execute: (payload) => commands.handle(payload),
    emit,
    registry: metrics.registry,
    logger: logger.child({ part: 'failsafe' }),
  });

  const onAvailability = (deviceId: string, online: boolean, reason: string): void => {
    if (!availability.set(deviceId, online)) return;
    emit(deviceId, [online ? { kind: 'event', type: 'device.online', data: {} } : { kind: 'event', type: 'device.offline', data: { reason } }]);
  };

  /** A native message to a device, over the transport its driver names. */
  function sendNative(deviceId: string, msg: NativeMessage): Promise<void> {
    const device = devices.get(deviceId);
    if (!device) return Promise.reject(new Error(`unknown device ${deviceId}`));
    const transport = transports.get(device.driver.transport);
    if (!transport?.send) return Promise.reject(new Error(`${device.driver.transport} transport ${transport ? 'carries no commands' : 'not running'}`));
    return transport.send(device, msg);
  }

  // Reverse start order: pollers and listeners stop before the hub link they feed.
  const stopTransports = async (): Promise<void> => {
    for (const [name, t] of [...transports].reverse()) {
      transports.delete(name);
      await t.stop();
    }
  };

  let fieldInfo = { host: config.field.host, port: config.field.port };
  let face: FaceService | undefined;
  let gallerySync: GallerySyncClient | undefined;
  try {
    if (config.face.enabled) {
      // A missing gallery file is created empty by the face service: the sync must then start from version 0.
      const freshGallery = !existsSync(config.face.gallery);
      face = await FaceService.start({
        config: config.face,
        devices,
        emit,
        execute: (payload) => commands.handle(payload),
        // By the field protocol the device id is the topic's second segment.
        publish: (topic, payload) => sendNative(topic.split('/')[1] ?? '', { topic, payload }),
        refuse: (reason, fields, msg) => ingest.refuse(reason, fields, msg),
        registry: metrics.registry,
        logger: logger.child({ part: 'face' }),
        personThreshold: (person, device) => gallerySync?.threshold(person, device),
      });
      const f = face;
      gallerySync = new GallerySyncClient({
        gatewayId: gw,
        gallery: f.gallery,
        model: config.face.recogniser,
        save: () => f.save(),
        stateFile: `${config.face.gallery}.sync.json`,
        freshGallery,
        refuse: (reason, fields, msg) => ingest.refuse(reason, fields, msg),
        registry: metrics.registry,
        logger: logger.child({ part: 'gallery-sync' }),
      });
    }
    // Every transport with devices (and those always on, like the field broker) in registry order.
    for (const transport of TRANSPORTS.values()) {
      const own = [...devices.values()].filter((d) => d.driver.transport === transport.name);
      if (own.length === 0 && !transport.always) continue;
      const part = logger.child({ part: transport.name });
      transports.set(
        transport.name,
        await transport.start({
          config,
          devices: own,
          // Face captures are decided on the gateway (face/service.ts); everything else is decoded into records.
          deliver: (deviceId, topic, payload, delivery) =>
            face?.handles(deviceId, topic) ? face.handle(deviceId, topic, payload) : ingest.handle(deviceId, topic, payload, delivery),
          emit,
          onAvailability,
          refuse: (reason, fields, msg) => ingest.refuse(reason, fields, msg),
          registry: metrics.registry,
          logger: part,
        }),
      );
    }
    const field = transports.get('field-mqtt')?.address;
    if (!field) throw new Error('the field-mqtt transport did not report its address');
    fieldInfo = field;

    hub = new HubLink({
      gatewayId: gw,
      url: config.hub.url,
      username: config.hub.username,
      password: config.hub.password,
      tls: config.hub.tls,
      keepaliveSeconds: config.hub.keepaliveSeconds,
      reconnectMs: config.hub.reconnectMs,
      batchSize: config.outbox.batchSize,
      maxBatchBytes: MAX_BATCH_BYTES,
      maxInFlightBatches: config.outbox.maxInFlightBatches,
      retryMs: config.outbox.retryMs,
      statusIntervalSeconds: config.metrics.statusIntervalSeconds,
      outbox,
      status: () => ({
        agentVersion: AGENT_VERSION,
        startedAt,
        backlog: outbox.backlog(),
        outboxShed: outbox.shedCounts(),
        devicesOnline: availability.count(),
        devicesTotal: devices.size,
        counters: metrics.summary(),
        ...(gallerySync ? { gallery: gallerySync.status() } : {}),
      }),
      inventory: () => [...[...devices.values()].map((d) => d.info), ...proposals.list()],
      onCommand: (payload) => {
        failsafe.observeHubCommand(payload);
        commands.handle(payload);
      },
      ...(gallerySync
        ? {
            onGallery: (payload: Buffer) => {
              const s = gallerySync!;
              void s.handle(payload).then((r) => r === 'applied' && hub?.publishStatus());
            },
          }
        : {}),
      refuse: (reason, fields, msg) => ingest.refuse(reason, fields, msg),
      metrics,
      logger: logger.child({ part: 'hub' }),
    });
    hub.start();
    proposals.start();

    if (config.metrics.enabled) metricsServer = await serveMetrics(metrics, config.metrics.host, config.metrics.port);
  } catch (err) {
    await hub?.stop();
    await stopTransports();
    await face?.stop();
    outbox.close();
    throw err;
  }

  if (config.hub.password === undefined) logger.warn('no hub password (hub.password, hub.passwordFile or WARDEN_GATEWAY_PASSWORD); the hub will likely refuse the gateway');
  logger.info(
    { field: `mqtt://${fieldInfo.host}:${fieldInfo.port}`, hub: config.hub.url, outbox: config.outbox.path, backlog: outbox.backlog(), devices: devices.size },
    'edge agent started',
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      failsafe.stop();
      await proposals.stop();
      commands.stop();
      await stopTransports();
      await face?.stop();
      await hub!.stop();
      await metricsServer?.close();
      outbox.close();
      logger.info('edge agent stopped');
    })());

  return {
    field: fieldInfo,
    metricsPort: metricsServer?.port ?? null,
    backlog: () => outbox.backlog(),
    hubConnected: () => hub!.connected(),
    devicesOnline: () => availability.count(),
    metrics,
    stop,
  };
}
