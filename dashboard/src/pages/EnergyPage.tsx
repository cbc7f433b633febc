import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { hubPath } from '../api/client.ts';
import type { Consumption, Cost, EnergyNode, Medium, EnergyStep as Step } from '@warden/contract';
import { MEDIA, STEPS } from '../api/values.ts';
import { EnergyChart } from '../components/EnergyChart.tsx';
import {
  addDays,
  bucketLabel,
  byMedium,
  dayStart,
  findMeter,
  flaggedBuckets,
  flattenTree,
  formatNumber,
  formula,
  fromDateInput,
  energyNodeFromHash,
  metersOf,
  monthStart,
  pathTo,
  subtreeMedia,
  toDateInput,
} from '../lib/energy.ts';
import { useHubGet } from '../state/fetch.ts';
import { useHubGetAll } from '../state/fetchAll.ts';

function useEnergyHash(): string | null {
  const [id, setId] = useState(() => energyNodeFromHash(location.hash));
  useEffect(() => {
    const onChange = () => setId(energyNodeFromHash(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return id;
}

export function EnergyPage() {
  const { t } = useTranslation();
  const id = useEnergyHash();
  const [tree, setTree] = useState<EnergyNode | null | undefined>(undefined);
  const fetched = useHubGet(hubPath('GET /api/energy/tree', {}), (d) => setTree(d.tree));
  return (
    <section className="page" aria-labelledby="energy-title">
      {fetched.error && (
        <p className="error" role="alert">
          {t('energy.loadFailed', { message: fetched.error })}
        </p>
      )}
      {tree === null && <p className="empty">{t('energy.noTree')}</p>}
      {tree && (id ? <EnergyDetail key={id} tree={tree} id={id} /> : <EnergyOverview tree={tree} />)}
    </section>
  );
}

/** The hub rolls up once a minute; the overview follows at the same pace. */
const OVERVIEW_REFRESH_MS = 60_000;

function useClock(everyMs: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs]);
  return now;
}

function EnergyOverview({ tree }: { tree: EnergyNode }) {
  const { t, i18n } = useTranslation();
  const now = useClock(OVERVIEW_REFRESH_MS);
  const media = subtreeMedia(tree);
  const [medium, setMedium] = useState<Medium>(media[0] ?? 'power');
  const trendPath = hubPath('GET /api/energy/consumption', { query: { node: tree.id, medium, from: addDays(dayStart(now), -29), to: now, step: '1d', refresh: true } });
  const [trend, setTrend] = useState<Consumption | null>(null);
  const trendFetch = useHubGet(trendPath, setTrend);
  // Costs after the trend: its refresh has rolled up the newest readings by then.
  const costPaths = trend
    ? [dayStart(now), monthStart(now)].map((from) => hubPath('GET /api/energy/cost', { query: { node: tree.id, from, to: now } }))
    : null;
  const costs = useHubGetAll(costPaths);
  const today = byMedium(costs.data?.[0]);
  const month = byMedium(costs.data?.[1]);
  const error = trendFetch.error ?? costs.error;

  return (
    <div data-testid="energy-overview">
      <div className="page-head">
        <h1 id="energy-title">{t('energy.title')}</h1>
        <span className="muted">{tree.name}</span>
      </div>
      {error && (
        <p className="error" role="alert">
          {t('energy.loadFailed', { message: error })}
        </p>
      )}
      <div className="energy-cards">
        {MEDIA.map((m) => (
          <div key={m} className="card energy-card">
            <h2>{t(`energy.media.${m}`)}</h2>
            {(['today', 'month'] as const).map((p) => {
              const c = (p === 'today' ? today : month)[m];
              return (
                <div
                  key={p}
                  className="energy-total"
                  data-testid="energy-total"
                  data-medium={m}
                  data-period={p}
                  data-amount={c?.amount ?? ''}
                  data-cost={c?.cost ?? ''}
                >
                  <span className="muted">{t(`energy.${p}`)}</span>{' '}
                  {c ? (
                    <>
                      <strong>
                        {formatNumber(c.amount, i18n.language)} {c.unit}
                      </strong>{' '}
                      <span>{t('energy.cost', { cost: formatNumber(c.cost, i18n.language) })}</span>
                    </>
                  ) : (
                    <span className="muted">{costs.data ? t('energy.noMeters') : t('common.loading')}</span>
                  )}
                </div>
              );
            })}
          </div>
        ))}
      </div>
      <div className="card">
        <div className="page-head">
          <h2>{t('energy.trend', { medium: t(`energy.media.${medium}`) })}</h2>
          <select aria-label={t('energy.medium')} value={medium} onChange={(e) => setMedium(e.target.value as Medium)} data-testid="energy-medium">
            {(media.length ? media : MEDIA).map((m) => (
              <option key={m} value={m}>
                {t(`energy.media.${m}`)}
              </option>
            ))}
          </select>
        </div>
        {trend && trend.medium === medium && <EnergyChart series={[{ label: tree.name, points: trend.points }]} unit={trend.unit} testId="energy-trend-chart" />}
      </div>
      <div className="card">
        <h2>{t('energy.hierarchy')}</h2>
        <ul className="energy-tree" data-testid="energy-tree">
          {flattenTree(tree).map(({ node, depth }) => (
            <li key={node.id} style={{ paddingLeft: depth * 20 }} data-testid="energy-node" data-node={node.id} data-type={node.type}>
              <a href={`#/energy/${encodeURIComponent(node.id)}`} data-testid="energy-node-open">
                {node.name}
              </a>{' '}
              <span className="tag">{t(`energy.nodeTypes.${node.type}`)}</span>{' '}
              {node.meters.map((m) => (
                <a key={m.id} href={`#/energy/${encodeURIComponent(m.id)}`} className="mono energy-meter-link" data-testid="energy-meter-link" data-meter={m.id} data-virtual={String(m.virtual)}>
                  {m.id}
                </a>
              ))}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}

function EnergyDetail({ tree, id }: { tree: EnergyNode; id: string }) {
  const { t, i18n } = useTranslation();
  const path = pathTo(tree, id);
  const asMeter = path ? null : findMeter(tree, id);
  const node = path?.[path.length - 1] ?? null;
  const media = node ? subtreeMedia(node) : asMeter ? [asMeter.meter.medium] : [];
  const [medium, setMedium] = useState<Medium>(media[0] ?? 'power');
  const [now] = useState(() => Date.now());
  const [fromS, setFrom] = useState(() => toDateInput(addDays(dayStart(now), -6)));
  const [toS, setTo] = useState(() => toDateInput(now));
  const [step, setStep] = useState<Step>('1h');
  const from = fromDateInput(fromS);
  const toDay = fromDateInput(toS);
  const to = toDay === null ? null : addDays(toDay, 1);

  const virtual = node ? metersOf(node, medium, true) : [];
  const physical = node ? metersOf(node, medium, false) : [];
  const ids = [id, ...virtual.map((m) => m.id), ...physical.map((m) => m.id)];
  const paths = useMemo(
    () =>
      from === null || to === null || from >= to
        ? null
        : ids.map((n, i) => hubPath('GET /api/energy/consumption', { query: { node: n, medium: n === id && node ? medium : undefined, from, to, step: i === 0 || i <= virtual.length ? step : '1d', refresh: i === 0 ? true : undefined } })),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [ids.join('|'), medium, from, to, step],
  );
  const all = useHubGetAll(paths, 1);
  const main = all.data?.[0];
  const series = all.data ? all.data.slice(0, 1 + virtual.length).map((c, i) => ({ label: i === 0 ? (node?.name ?? id) : ids[i]!, points: c.points })) : [];

  if (!node && !asMeter) return <p className="error">{t('common.notFound')}</p>;
  return (
    <div data-testid="energy-detail" data-node={id}>
      <div className="page-head">
        <a href="#/energy" data-testid="energy-back">
          {t('energy.back')}
        </a>
        <h1 id="energy-title">{node?.name ?? id}</h1>
        <nav className="muted" aria-label="breadcrumbs">
          {(path ?? [...(pathTo(tree, asMeter!.node.id) ?? [])]).map((n) => (
            <span key={n.id}>
              {' / '}
              <a href={`#/energy/${encodeURIComponent(n.id)}`}>{n.name}</a>
            </span>
          ))}
        </nav>
      </div>
      <div className="page-head">
        <label>
          {t('energy.medium')}{' '}
          <select value={medium} onChange={(e) => setMedium(e.target.value as Medium)} data-testid="energy-medium" disabled={!node}>
            {(media.length ? media : MEDIA).map((m) => (
              <option key={m} value={m}>
                {t(`energy.media.${m}`)}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('energy.from')} <input type="date" value={fromS} onChange={(e) => setFrom(e.target.value)} data-testid="energy-from" />
        </label>
        <label>
          {t('energy.to')} <input type="date" value={toS} onChange={(e) => setTo(e.target.value)} data-testid="energy-to" />
        </label>
        <label>
          {t('energy.step')}{' '}
          <select value={step} onChange={(e) => setStep(e.target.value as Step)} data-testid="energy-step">
            {STEPS.map((s) => (
              <option key={s} value={s}>
                {t(`energy.steps.${s}`)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {all.error && (
        <p className="error" role="alert">
          {t('energy.loadFailed', { message: all.error })}
        </p>
      )}
      {main && (
        <div className="card">
          <p data-testid="energy-detail-total" data-total={main.total} data-unit={main.unit}>
            <strong>{t('energy.total', { total: formatNumber(main.total, i18n.language), unit: main.unit })}</strong>
            {flaggedBuckets(main) > 0 && <span className="muted"> · {t('energy.flagged', { n: flaggedBuckets(main) })}</span>}
          </p>
          {main.points.length === 0 ? (
            <p className="empty">{t('energy.noData')}</p>
          ) : (
            <EnergyChart series={series} unit={main.unit} />
          )}
          {main.points.length > 0 && (
            <p className="muted">
              {bucketLabel(main.points[0]![0], main.step)} – {bucketLabel(main.points[main.points.length - 1]![0], main.step)}
            </p>
          )}
        </div>
      )}
      {node && all.data && (virtual.length > 0 || physical.length > 0) && (
        <div className="table-wrap">
          <table className="table" data-testid="energy-meters">
            <thead>
              <tr>
                <th>{t('energy.meter')}</th>
                <th>{t('energy.formula')}</th>
                <th className="num">{t('energy.periodTotal')}</th>
              </tr>
            </thead>
            <tbody>
              {[...virtual, ...physical].map((m, i) => {
                const c = all.data![1 + i];
                return (
                  <tr key={m.id} data-testid={m.virtual ? 'energy-virtual-row' : 'energy-meter-row'} data-meter={m.id} data-total={c?.total ?? ''}>
                    <td className="mono">
                      <a href={`#/energy/${encodeURIComponent(m.id)}`}>{m.id}</a> {m.virtual && <span className="tag">{t('energy.virtualMeters')}</span>}
                    </td>
                    <td className="mono">{m.virtual ? formula(m) : '–'}</td>
                    <td className="num">{c ? `${formatNumber(c.total, i18n.language)} ${c.unit}` : '–'}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {node && node.children.length > 0 && (
        <ul className="energy-tree" data-testid="energy-children">
          {node.children.map((c) => (
            <li key={c.id} data-testid="energy-node" data-node={c.id} data-type={c.type}>
              <a href={`#/energy/${encodeURIComponent(c.id)}`} data-testid="energy-node-open">
                {c.name}
              </a>{' '}
              <span className="tag">{t(`energy.nodeTypes.${c.type}`)}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
