export { startEdgeAgent, type EdgeAgent, type StartEdgeOptions } from './agent.ts';
export { runEdge } from './cli.ts';
export { loadEdgeConfig, parseEdgeConfig, EdgeConfigError, EdgeConfigSchema, type EdgeConfig, type DeviceConfig } from './config.ts';
export { DRIVERS, DRIVER_NAMES, getDriver } from './drivers/index.ts';
export type { Driver, AnyDriver, Emission, NativeMessage, CommandReply } from './driver.ts';
export { Outbox, type NewRecord, type OutboxOptions } from './outbox.ts';
export { EdgeMetrics } from './metrics.ts';
export { AGENT_VERSION } from './version.ts';
