import type { HubContext, HubModule } from '../module.ts';
import type { DeviceRepo } from '../store/devices.ts';
import type { StoredEvent } from '../store/events.ts';
import { CameraBoard } from './board.ts';

/**
 * The camera status board as a hub module: warmed from the events table at start, then fed by every stored
 * event on the bus. The REST route (routes.ts) finds the running board by the hub's device registry, which
 * the API's services share: `boardFor(s.devices)`.
 */
const boards = new WeakMap<DeviceRepo, CameraBoard>();

export function boardFor(devices: DeviceRepo): CameraBoard | undefined {
  return boards.get(devices);
}

export class CamerasModule implements HubModule {
  readonly name = 'cameras';
  private off: (() => void) | null = null;
  private devices: DeviceRepo | null = null;
  board: CameraBoard | null = null;

  async start(ctx: HubContext): Promise<void> {
    const board = new CameraBoard(ctx.stores.devices);
    board.warm(ctx.stores.db);
    const onEvent = (e: StoredEvent): void => {
      try {
        board.apply(e);
      } catch (err) {
        ctx.log.error({ err, event: e.id }, 'camera status: could not apply an event');
      }
    };
    ctx.bus.on('event', onEvent);
    this.off = () => ctx.bus.off('event', onEvent);
    this.devices = ctx.stores.devices;
    this.board = board;
    boards.set(ctx.stores.devices, board);
  }

  async stop(): Promise<void> {
    this.off?.();
    this.off = null;
    if (this.devices) boards.delete(this.devices);
    this.board = null;
  }
}
