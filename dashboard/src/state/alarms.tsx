import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import type { Alarm, AlarmsPage, LinkageMessage } from '@warden/contract';
import { AlarmBeeper } from '../lib/alarmSound.ts';
import { isOpen, loudest, mergeAlarms } from '../lib/alarms.ts';
import { useSignedIn } from './auth.tsx';
import { useHubGet } from './fetch.ts';
import { useLiveBatch } from './live.tsx';
import { hubPath } from '../api/client.ts';

export type SoundState = 'alerting' | 'muted' | 'quiet';

export interface AlarmCenter {
  enabled: boolean;
  /** Open alarms (raised or acknowledged), kept live; resolved ones drop out. */
  open: Alarm[];
  loading: boolean;
  error: string | null;
  sound: SoundState;
  muted: boolean;
  setMuted(muted: boolean): void;
  /**
   * What the hub's linkage asked the console to show, newest first: the cameras of an alarm's zone, or a
   * notice for one of this user's roles (a linkage `notify`, or an escalation to that role).
   */
  popups: Array<{ alarmId: string; cameras: string[]; notify: boolean; at: number }>;
  dismissPopup(alarmId: string): void;
  acknowledge(id: string, note: string): Promise<Alarm>;
  acknowledgeMany(ids: string[], note: string): Promise<{ acknowledged: string[]; skipped: Array<{ id: string; reason: string }> }>;
  resolve(id: string, note: string): Promise<Alarm>;
  /** Any alarm the page got from the hub (a REST answer, a detail) that may be newer than ours. */
  learn(alarms: Alarm[]): void;
}

const AlarmContext = createContext<AlarmCenter | null>(null);
const MUTE_KEY = 'warden.alarmMuted';

/**
 * Open alarms for the whole signed-in session, so the audible alert sounds on every page and nothing raised
 * while the operator looks elsewhere is missed: fetched on sign-in and after every reconnection, then kept live
 * from the `alarm` messages. Disabled for roles that do not see the alarms page.
 */
export function AlarmsProvider({ enabled, children }: { enabled: boolean; children: ReactNode }) {
  const { api, user } = useSignedIn();
  const [alarms, setAlarms] = useState<Alarm[]>([]);
  const [muted, setMutedState] = useState(() => sessionStorage.getItem(MUTE_KEY) === '1');
  const [popups, setPopups] = useState<AlarmCenter['popups']>([]);
  const learn = useCallback((incoming: Alarm[]) => setAlarms((cur) => mergeAlarms(cur, incoming).filter(isOpen)), []);

  const fetched = useHubGet(enabled ? hubPath('GET /api/alarms', { query: { state: 'open', limit: 500 } }) : null, (page) =>
    // A fresh list replaces what we had: an alarm resolved while the feed was down must go.
    setAlarms((cur) => mergeAlarms(cur.filter((a) => page.alarms.some((b) => b.id === a.id)), page.alarms).filter(isOpen)),
  );
  useLiveBatch('alarm', enabled ? learn : ignore);
  useLiveBatch('linkage', (msgs: LinkageMessage[]) => {
    if (!enabled) return;
    const shown = msgs.filter(
      (m) => (m.action === 'cameras.show' && m.cameras?.length) || (m.action === 'notify' && m.roles?.some((r) => user.roles.includes(r as never))),
    );
    if (shown.length === 0) return;
    setPopups((cur) => {
      const next = [...cur];
      for (const m of shown) {
        const i = next.findIndex((p) => p.alarmId === m.alarmId);
        const prev = i >= 0 ? next.splice(i, 1)[0]! : { alarmId: m.alarmId, cameras: [], notify: false, at: 0 };
        next.unshift({ alarmId: m.alarmId, cameras: m.cameras?.length ? m.cameras : prev.cameras, notify: prev.notify || m.action === 'notify', at: Date.now() });
      }
      return next.slice(0, 5);
    });
  });

  const open = useMemo(() => alarms.filter(isOpen), [alarms]);
  const priority = loudest(open);
  const sound: SoundState = priority === null ? 'quiet' : muted ? 'muted' : 'alerting';

  const beeper = useRef<AlarmBeeper | null>(null);
  useEffect(() => {
    beeper.current = new AlarmBeeper();
    return () => beeper.current?.close();
  }, []);
  useEffect(() => {
    beeper.current?.set(sound === 'alerting' ? priority : null);
  }, [sound, priority]);

  const setMuted = useCallback((m: boolean) => {
    sessionStorage.setItem(MUTE_KEY, m ? '1' : '0');
    setMutedState(m);
  }, []);

  const acknowledge = useCallback(
    async (id: string, note: string) => {
      const a = await api('POST /api/alarms/:id/acknowledge', { params: { id }, body: note ? { note } : {} });
      learn([a]);
      return a;
    },
    [api, learn],
  );
  const resolve = useCallback(
    async (id: string, note: string) => {
      const a = await api('POST /api/alarms/:id/resolve', { params: { id }, body: { note } });
      learn([a]);
      return a;
    },
    [api, learn],
  );
  const acknowledgeMany = useCallback(
    async (ids: string[], note: string) => {
      const r = await api('POST /api/alarms/acknowledge', {
        body: note ? { ids, note } : { ids },
      });
      // The answer has ids only; the feed brings each alarm's new version, and this marks them at once.
      setAlarms((cur) => cur.map((a) => (r.acknowledged.includes(a.id) && a.state === 'raised' ? { ...a, state: 'acknowledged' } : a)));
      return r;
    },
    [api],
  );
  const dismissPopup = useCallback((alarmId: string) => setPopups((cur) => cur.filter((p) => p.alarmId !== alarmId)), []);

  const value = useMemo<AlarmCenter>(
    () => ({ enabled, open, loading: fetched.loading, error: fetched.error, sound, muted, setMuted, popups, dismissPopup, acknowledge, acknowledgeMany, resolve, learn }),
    [enabled, open, fetched.loading, fetched.error, sound, muted, setMuted, popups, dismissPopup, acknowledge, acknowledgeMany, resolve, learn],
  );
  return <AlarmContext.Provider value={value}>{children}</AlarmContext.Provider>;
}

function ignore(): void {}

export function useAlarms(): AlarmCenter {
  const v = useContext(AlarmContext);
  if (!v) throw new Error('useAlarms outside AlarmsProvider');
  return v;
}
