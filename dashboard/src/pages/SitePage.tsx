import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Site, SiteMarker } from '@warden/contract';
import { DoorControls } from '../components/DoorControls.tsx';
import { useAlarmLabels } from '../lib/alarmLabels.ts';
import { alarmedDevices } from '../lib/alarms.ts';
import { useLabels } from '../lib/labels.ts';
import { useAlarms } from '../state/alarms.tsx';
import { useHubGet } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';
import { hubPath } from '../api/client.ts';

/**
 * The site plan from `GET /api/site`: the configured SVG drawn as an image (an image cannot run scripts, so a
 * plan file is never a way into the console) with one marker per configured device. A marker blinks while its
 * device has an open alarm; a door's marker opens remote open/lock for the roles allowed to use it.
 */
export function SitePage() {
  const { t } = useTranslation();
  const labels = useLabels();
  const alarmLabels = useAlarmLabels();
  const { open } = useAlarms();
  const [site, setSite] = useState<Site | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const fetched = useHubGet(hubPath('GET /api/site', {}), setSite);
  useLiveBatch('device', (updates) =>
    setSite((cur) => {
      if (!cur) return cur;
      const online = new Map(updates.map((u) => [u.id, u.online]));
      return { ...cur, markers: cur.markers.map((m) => (online.has(m.device) ? { ...m, online: online.get(m.device)! } : m)) };
    }),
  );
  const alarmed = useMemo(() => alarmedDevices(open), [open]);
  const width = site?.plan?.width ?? 1000;
  const height = site?.plan?.height ?? 1000;
  const planUrl = useMemo(() => (site?.plan ? `data:image/svg+xml;charset=utf-8,${encodeURIComponent(site.plan.svg)}` : null), [site?.plan]);
  const marker = site?.markers.find((m) => m.device === selected) ?? null;

  return (
    <section className="page" aria-labelledby="site-title">
      <div className="page-head">
        <h1 id="site-title">{t('site.title')}</h1>
        <span className="counts" data-testid="site-alarmed" data-count={site ? site.markers.filter((m) => alarmed.has(m.device)).length : 0}>
          {t('site.alarmed', { n: site ? site.markers.filter((m) => alarmed.has(m.device)).length : 0 })}
        </span>
      </div>
      {fetched.error && (
        <p className="error" role="alert">
          {t('site.loadFailed', { message: fetched.error })}
        </p>
      )}
      {site && !site.plan && site.markers.length === 0 && <p className="empty" data-testid="site-empty">{t('site.noPlan')}</p>}
      {site && (site.plan || site.markers.length > 0) && (
        <div className="site-layout">
          <svg className="site-plan" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={t('site.title')} data-testid="site-plan">
            {planUrl ? <image href={planUrl} x={0} y={0} width={width} height={height} /> : <rect x={0} y={0} width={width} height={height} className="site-blank" />}
            {site.markers.map((m) => (
              <Marker key={m.device} m={m} alarm={alarmed.has(m.device)} selected={m.device === selected} onSelect={() => setSelected(m.device)} title={`${m.name || m.device} · ${m.kind ? labels.deviceKind(m.kind) : '?'}`} />
            ))}
          </svg>
          {marker && (
            <aside className="site-panel" data-testid="site-panel" data-device={marker.device}>
              <h2>{marker.name || marker.device}</h2>
              <p className="mono muted">{marker.device}</p>
              <p>
                {marker.kind ? labels.deviceKind(marker.kind) : '?'} · {[marker.building, marker.zone].filter(Boolean).join(' / ')}
              </p>
              <p>{marker.online ? t('devices.online') : t('devices.offline')}</p>
              {open
                .filter((a) => a.device === marker.device)
                .map((a) => (
                  <p key={a.id}>
                    <a href={`#/alarms/${encodeURIComponent(a.id)}`} className={`prio prio-${a.priority}`} data-testid="site-panel-alarm">
                      {alarmLabels.type(a)}
                    </a>
                  </p>
                ))}
              {marker.kind === 'door' && <DoorControls device={marker.device} />}
            </aside>
          )}
        </div>
      )}
      {fetched.loading && !site && <p className="empty">{t('common.loading')}</p>}
    </section>
  );
}

function Marker({ m, alarm, selected, onSelect, title }: { m: SiteMarker; alarm: boolean; selected: boolean; onSelect: () => void; title: string }) {
  return (
    <g
      className={`site-marker${alarm ? ' blink' : ''}${m.online ? '' : ' offline'}${selected ? ' selected' : ''}`}
      transform={`translate(${m.x} ${m.y})`}
      data-testid="site-marker"
      data-device={m.device}
      data-alarm={alarm ? 'true' : 'false'}
      data-online={String(m.online)}
      role="button"
      tabIndex={0}
      onClick={onSelect}
      onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && onSelect()}
    >
      <title>{title}</title>
      <circle r={12} />
      <text y={4} textAnchor="middle">
        {(m.kind ?? '?').slice(0, 1).toUpperCase()}
      </text>
    </g>
  );
}
