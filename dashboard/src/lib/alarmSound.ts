import type { AlarmPriority } from '@warden/contract';

/** Pitch and pause per priority: the more urgent, the higher and faster (ms between beeps). */
const TONE: Record<AlarmPriority, { hz: number; everyMs: number }> = {
  critical: { hz: 1320, everyMs: 900 },
  high: { hz: 990, everyMs: 1500 },
  medium: { hz: 770, everyMs: 3000 },
  low: { hz: 660, everyMs: 6000 },
};

/**
 * The audible alert: a short Web Audio beep repeated while an alarm is unacknowledged. Generated, so it needs
 * no sound file and works offline. Browsers keep audio suspended until the page has had a user gesture; the
 * operator's sign-in click normally provides it, and `resume()` is tried again on every beep.
 */
export class AlarmBeeper {
  private ctx: AudioContext | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private priority: AlarmPriority | null = null;

  /** null = silence. */
  set(priority: AlarmPriority | null): void {
    if (priority === this.priority) return;
    this.priority = priority;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (priority) this.loop();
  }

  private loop(): void {
    const p = this.priority;
    if (!p) return;
    this.beep(TONE[p].hz);
    this.timer = setTimeout(() => this.loop(), TONE[p].everyMs);
  }

  private beep(hz: number): void {
    try {
      this.ctx ??= new AudioContext();
      if (this.ctx.state === 'suspended') void this.ctx.resume().catch(() => {});
      const t = this.ctx.currentTime;
      const osc = this.ctx.createOscillator();
      const gain = this.ctx.createGain();
      osc.type = 'square';
      osc.frequency.value = hz;
      // A short envelope: an abrupt square wave clicks.
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.2, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.35);
      osc.connect(gain).connect(this.ctx.destination);
      osc.start(t);
      osc.stop(t + 0.4);
    } catch {
      // No audio device or API: the visible indicator still says an alarm is sounding.
    }
  }

  /** 'running' once the browser lets the page play sound. */
  audioState(): string {
    return this.ctx?.state ?? 'none';
  }

  close(): void {
    this.set(null);
    void this.ctx?.close().catch(() => {});
    this.ctx = null;
  }
}
