import type { Logger } from 'pino';
import { parseNotification, type CameraNotification } from './notifications.ts';
import type { OnvifCameraClient } from './onvif-client.ts';

/**
 * One camera's PullPoint event loop. PullPoint is flaky across brands, so:
 * - the subscription is renewed once half its granted lifetime has passed (some cameras grant a minute,
 *   some seconds), and created again when it expired, was lost (camera reboot) or a pull faulted;
 * - a camera that answers a long PullMessages (Timeout of `pullTimeoutSeconds`) with a SOAP fault twice
 *   in a row is polled instead: PullMessages with Timeout 0 every `pollIntervalMs`;
 * - a camera that refuses CreatePullPointSubscription is marked `unsupported` and asked again after
 *   the longest back-off; network errors back off without changing mode (health tracks reachability).
 */

export type EventMode = 'pullpoint' | 'poll' | 'unsupported';

export interface EventLoopStatus {
  mode: EventMode;
  subscribed: boolean;
  subscriptions: number;
  renewals: number;
  resubscriptions: number;
  faults: number;
  notifications: number;
  lastError: string | null;
}

export interface EventLoopOptions {
  client: OnvifCameraClient;
  onNotification(n: CameraNotification): void;
  /** Ignored topics are counted here. */
  onIgnored?(): void;
  pullTimeoutSeconds?: number;
  pollIntervalMs?: number;
  /** First retry delay after a failure; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  logger: Logger;
}

const isSoapFault = (err: unknown): boolean => err instanceof Error && /ONVIF SOAP Fault/i.test(err.message);

export class CameraEventLoop {
  private stopped = false;
  private running: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private terminationAt = 0;
  private grantedMs = 0;
  private pullFaults = 0;
  private readonly s: EventLoopStatus = { mode: 'pullpoint', subscribed: false, subscriptions: 0, renewals: 0, resubscriptions: 0, faults: 0, notifications: 0, lastError: null };

  constructor(private readonly o: EventLoopOptions) {}

  status(): EventLoopStatus {
    return { ...this.s, subscribed: this.o.client.hasSubscription() };
  }

  start(): void {
    this.running ??= this.loop();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        this.wake = null;
        resolve();
      };
    });
  }

  private async loop(): Promise<void> {
    const c = this.o.client;
    const pullTimeout = this.o.pullTimeoutSeconds ?? 10;
    const retry = this.o.retryMs ?? 1000;
    const maxRetry = this.o.maxRetryMs ?? 5 * 60_000;
    let failures = 0;
    while (!this.stopped) {
      try {
        if (!c.hasSubscription() || Date.now() >= this.terminationAt - 500) {
          if (c.hasSubscription() || this.s.subscriptions > 0) this.s.resubscriptions++;
          await c.unsubscribe();
          const sub = await c.createPullPoint();
          this.terminationAt = sub.terminationAt;
          this.grantedMs = Math.max(0, sub.terminationAt - Date.now());
          this.s.subscriptions++;
          if (this.s.mode === 'unsupported') this.s.mode = 'pullpoint';
        } else if (this.terminationAt - Date.now() < this.grantedMs / 2) {
          const t = await c.renew();
          this.s.renewals++;
          if (t !== null) this.terminationAt = t;
        }
        if (this.stopped) break;
        const remaining = Math.floor((this.terminationAt - Date.now()) / 1000);
        // Never wait past half the lifetime: the renewal must come in time.
        const wait = this.s.mode === 'poll' ? 0 : Math.max(0, Math.min(pullTimeout, Math.floor(this.grantedMs / 2000), remaining - 1));
        let pulled;
        try {
          pulled = await c.pull(wait);
        } catch (err) {
          if (isSoapFault(err) && this.s.mode === 'pullpoint' && wait > 0 && ++this.pullFaults >= 2) {
            this.s.mode = 'poll';
            this.o.logger.warn({ err: (err as Error).message }, 'camera faults on long PullMessages; polling its events instead');
          }
          throw err;
        }
        this.pullFaults = 0;
        failures = 0;
        this.s.lastError = null;
        for (const m of pulled.messages) {
          const n = parseNotification(m);
          if (!n) {
            this.o.onIgnored?.();
            continue;
          }
          this.s.notifications++;
          this.o.onNotification(n);
        }
        if (this.s.mode === 'poll') await this.sleep(this.o.pollIntervalMs ?? 5000);
      } catch (err) {
        if (this.stopped) break;
        this.s.faults++;
        this.s.lastError = (err as Error).message;
        failures++;
        // A faulted or unreachable subscription is dropped and created again (after the back-off).
        await c.unsubscribe();
        const refused = isSoapFault(err) && this.s.subscriptions === 0;
        if (refused && failures >= 3 && this.s.mode !== 'unsupported') {
          this.s.mode = 'unsupported';
          this.o.logger.warn({ err: (err as Error).message }, 'camera refuses PullPoint subscriptions; asking again later');
        }
        await this.sleep(this.s.mode === 'unsupported' ? maxRetry : Math.min(maxRetry, retry * 2 ** Math.min(failures - 1, 10)));
      }
    }
  }

  /** Ends the loop and unsubscribes (best effort); the caller closes the client, which ends a pull in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    const c = this.o.client;
    await Promise.race([c.unsubscribe(), new Promise((r) => setTimeout(r, 1000))]);
  }

  /** Resolves when the loop has ended (after stop and the client's close). */
  async done(): Promise<void> {
    await this.running;
  }
}
