import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Device } from '@warden/contract';
import { MAX_EVENTS, severityOf } from '../lib/events.ts';
import { delay, formatTime, fullTime, LATE_AFTER_MS } from '../lib/format.ts';
import { useLabels } from '../lib/labels.ts';
import { useEventFeed } from '../state/eventFeed.tsx';
import { useHubGet, useReloadOnUnknown } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';
import { hubPath } from '../api/client.ts';

export function EventsPage() {
  const { t } = useTranslation();
  const labels = useLabels();
  const { events, loading, error, skipped, reload } = useEventFeed();
  const [devices, setDevices] = useState<ReadonlyMap<string, Device>>(new Map());
  const [alarmsOnly, setAlarmsOnly] = useState(false);

  // Names make rows readable; ids stay visible because that is what field staff label hardware with.
  const deviceList = useHubGet(hubPath('GET /api/devices', {}), (d) => setDevices(new Map(d.devices.map((x) => [x.id, x]))));
  const unknownDevices = useReloadOnUnknown(deviceList.reload);
  useLiveBatch('event', (batch) => unknownDevices(batch.map((e) => e.device).filter((id) => !devices.has(id))));

  const shown = useMemo(() => (alarmsOnly ? events.filter((e) => severityOf(e.type) === 'alarm') : events), [events, alarmsOnly]);

  return (
    <section className="page" aria-labelledby="events-title">
      <div className="page-head">
        <h1 id="events-title">{t('events.title')}</h1>
        <label className="check">
          <input type="checkbox" checked={alarmsOnly} onChange={(e) => setAlarmsOnly(e.target.checked)} data-testid="alarms-only" />
          {t('events.alarmsOnly')}
        </label>
        <span className="muted counts" data-testid="event-count">
          {t('events.shown', { shown: shown.length, max: MAX_EVENTS })}
        </span>
      </div>
      {error && (
        <p className="error" role="alert">
          {t('events.loadFailed', { message: error })}
        </p>
      )}
      {skipped > 0 && (
        <p className="notice" role="status" data-testid="events-skipped">
          {t('events.skipped', { count: skipped })}{' '}
          <button type="button" className="link" onClick={reload} data-testid="events-skipped-reload">
            {t('events.reloadSkipped')}
          </button>
        </p>
      )}
      <div className="table-wrap">
        <table className="table events" data-testid="events-table">
          <thead>
            <tr>
              <th className="col-time">{t('events.time')}</th>
              <th>{t('events.type')}</th>
              <th>{t('events.device')}</th>
              <th className="hide-narrow">{t('events.gateway')}</th>
              <th>{t('events.details')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => {
              const severity = severityOf(e.type);
              const device = devices.get(e.device);
              const late = e.receivedAt - e.ts > LATE_AFTER_MS;
              return (
                <tr
                  key={e.id}
                  className={`sev-${severity}`}
                  data-testid="event-row"
                  data-event-type={e.type}
                  data-device={e.device}
                  data-alarm={severity === 'alarm' ? 'true' : 'false'}
                >
                  <td className="col-time" title={fullTime(e.ts)}>
                    {formatTime(e.ts)}
                    {late && <span className="late">{t('events.late', { delay: delay(e.receivedAt - e.ts, t) })}</span>}
                  </td>
                  <td>
                    {severity === 'alarm' && <span className="tag tag-alarm">{t('events.alarm')}</span>}
                    <span className="event-type">{labels.eventType(e.type)}</span>
                  </td>
                  <td>
                    {device?.name ? (
                      <>
                        {device.name} <span className="sub muted mono">{e.device}</span>
                      </>
                    ) : (
                      <span className="mono">{e.device}</span>
                    )}
                  </td>
                  <td className="hide-narrow mono">{e.gateway}</td>
                  <td className="details">{labels.summary(e.data)}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
        {!loading && shown.length === 0 && <p className="empty">{t('events.empty')}</p>}
        {loading && events.length === 0 && <p className="empty">{t('common.loading')}</p>}
      </div>
    </section>
  );
}
