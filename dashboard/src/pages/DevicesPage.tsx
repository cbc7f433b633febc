import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Device, Gateway } from '@warden/contract';
import { applyDeviceUpdates, countOnline, distinct, filterDevices, sortDevices, withGatewayState } from '../lib/devices.ts';
import { ago, fullTime } from '../lib/format.ts';
import { useLabels } from '../lib/labels.ts';
import { useNow } from '../lib/now.ts';
import { useHubGet, useReloadOnUnknown } from '../state/fetch.ts';
import { useLiveBatch } from '../state/live.tsx';
import { hubPath } from '../api/client.ts';

export function DevicesPage() {
  const { t } = useTranslation();
  const labels = useLabels();
  const now = useNow();
  const [devices, setDevices] = useState<Device[]>([]);
  const [kind, setKind] = useState('');
  const [gateway, setGateway] = useState('');

  const fetched = useHubGet(hubPath('GET /api/devices', {}), (d) => setDevices(d.devices));
  const unknownDevices = useReloadOnUnknown(fetched.reload);
  useLiveBatch('device', (updates) => {
    unknownDevices(applyDeviceUpdates(devices, updates).unknown);
    setDevices((cur) => applyDeviceUpdates(cur, updates).devices);
  });

  const [gatewayOnline, setGatewayOnline] = useState<ReadonlyMap<string, boolean>>(new Map());
  useHubGet(hubPath('GET /api/gateways', {}), (d) => setGatewayOnline(new Map(d.gateways.map((g) => [g.id, g.online]))));
  useLiveBatch('gateway', (updates) =>
    setGatewayOnline((cur) => {
      const next = new Map(cur);
      for (const u of updates) next.set(u.id, u.online);
      return next;
    }),
  );

  const kinds = useMemo(() => distinct(devices, 'kind'), [devices]);
  const gateways = useMemo(() => distinct(devices, 'gateway'), [devices]);
  const shown = useMemo(
    () => sortDevices(withGatewayState(filterDevices(devices, { kind, gateway }), gatewayOnline)),
    [devices, kind, gateway, gatewayOnline],
  );
  const counts = countOnline(shown);

  return (
    <section className="page" aria-labelledby="devices-title">
      <div className="page-head">
        <h1 id="devices-title">{t('devices.title')}</h1>
        <select aria-label={t('devices.filterKind')} value={kind} onChange={(e) => setKind(e.target.value)} data-testid="filter-kind">
          <option value="">{t('devices.allKinds')}</option>
          {kinds.map((k) => (
            <option key={k} value={k}>
              {labels.deviceKind(k)}
            </option>
          ))}
        </select>
        <select
          aria-label={t('devices.filterGateway')}
          value={gateway}
          onChange={(e) => setGateway(e.target.value)}
          data-testid="filter-gateway"
        >
          <option value="">{t('devices.allGateways')}</option>
          {gateways.map((g) => (
            <option key={g} value={g}>
              {g}
            </option>
          ))}
        </select>
        <span className="counts" data-testid="device-counts" data-online={counts.online} data-total={counts.total}>
          {t('devices.counts', counts)}
        </span>
      </div>
      {fetched.error && (
        <p className="error" role="alert">
          {t('devices.loadFailed', { message: fetched.error })}
        </p>
      )}
      <div className="table-wrap">
        <table className="table" data-testid="devices-table">
          <thead>
            <tr>
              <th>{t('devices.status')}</th>
              <th>{t('devices.name')}</th>
              <th>{t('devices.kind')}</th>
              <th>{t('devices.gateway')}</th>
              <th className="hide-narrow">{t('devices.location')}</th>
              <th>{t('devices.lastSeen')}</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.id} data-testid="device-row" data-device={d.id} data-online={String(d.online)} data-gateway-offline={d.gatewayOffline ? 'true' : undefined}>
                <td>
                  {d.gatewayOffline ? (
                    <span className="badge badge-stale" title={t('devices.gatewayOfflineHint')}>
                      {t('devices.gatewayOffline')}
                    </span>
                  ) : (
                    <span className={`badge ${d.online ? 'badge-on' : 'badge-off'}`}>
                      {d.online ? t('devices.online') : t('devices.offline')}
                    </span>
                  )}
                </td>
                <td>
                  {d.name || d.id} {d.name && <span className="sub muted mono">{d.id}</span>}
                </td>
                <td>{labels.deviceKind(d.kind)}</td>
                <td className="mono">{d.gateway}</td>
                <td className="hide-narrow">{[d.building, d.zone, d.location].filter(Boolean).join(' / ')}</td>
                <td title={d.lastSeen ? fullTime(d.lastSeen) : undefined}>{ago(d.lastSeen, t, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {!fetched.loading && shown.length === 0 && <p className="empty">{t('devices.empty')}</p>}
        {fetched.loading && devices.length === 0 && <p className="empty">{t('common.loading')}</p>}
      </div>
    </section>
  );
}
