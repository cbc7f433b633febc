import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { hubPath } from '../api/client.ts';
import type { Cost, EnergyNode, Medium } from '@warden/contract';
import { BANDS } from '../api/values.ts';
import { addDays, costCsv, costRows, costTotal, flattenTree, formatNumber, fromDateInput, monthStart, periodsBetween, toDateInput } from '../lib/energy.ts';
import { useHubGet } from '../state/fetch.ts';
import { useHubGetAll } from '../state/fetchAll.ts';

/** More cost queries than this in one report is a mistake (e.g. a year of days for every floor). */
const MAX_QUERIES = 400;

type Scope = 'campus' | 'all';

function reportNodes(tree: EnergyNode | null, scope: Scope): EnergyNode[] {
  const flat = flattenTree(tree).map((f) => f.node);
  return scope === 'all' ? flat : flat.filter((n) => n.type === 'campus' || n.type === 'building');
}

/** Cost report: one row per period × node × medium with the TOU split, exported as CSV in the browser. */
export function EnergyCostPage() {
  const { t, i18n } = useTranslation();
  const [tree, setTree] = useState<EnergyNode | null>(null);
  const fetched = useHubGet(hubPath('GET /api/energy/tree', {}), (d) => setTree(d.tree));
  const [now] = useState(() => Date.now());
  const [unit, setUnit] = useState<'day' | 'month'>('month');
  const [fromS, setFrom] = useState(() => toDateInput(monthStart(now, -2)));
  const [toS, setTo] = useState(() => toDateInput(now));
  const [scope, setScope] = useState<Scope>('campus');
  // The report runs on "Run" (and once on open), not on every keystroke in the date fields.
  const [asked, setAsked] = useState(() => ({ unit, fromS, toS, scope }));

  const plan = useMemo(() => {
    const from = fromDateInput(asked.fromS);
    const toDay = fromDateInput(asked.toS);
    if (!tree || from === null || toDay === null) return null;
    const to = Math.min(addDays(toDay, 1), Math.max(now, from + 1));
    const periods = periodsBetween(from, to, asked.unit).map((p) => ({ ...p, to: Math.min(p.to, Math.max(now, p.from + 1)) }));
    const nodes = reportNodes(tree, asked.scope);
    return periods.flatMap((p) => nodes.map((node) => ({ period: p, node })));
  }, [tree, asked, now]);
  const tooMany = plan !== null && plan.length > MAX_QUERIES;
  const paths = plan && !tooMany ? plan.map((e) => hubPath('GET /api/energy/cost', { query: { node: e.node.id, from: e.period.from, to: e.period.to } })) : null;
  const costs = useHubGetAll(paths);
  const rows = useMemo(
    () => (plan && costs.data && costs.data.length === plan.length ? costRows(plan.map((e, i) => ({ period: e.period.label, node: e.node, cost: costs.data![i]! }))) : []),
    [plan, costs.data],
  );

  const exportCsv = () => {
    const csv = costCsv(rows, {
      period: t('energy.period'),
      node: t('energy.node'),
      nodeName: t('energy.nodeName'),
      medium: t('energy.medium'),
      unit: t('energy.unit'),
      amount: t('energy.amount'),
      cost: t('energy.costCol'),
      unpriced: t('energy.unpriced'),
      bandAmount: (b) => t('energy.bandAmount', { band: t(`energy.bands.${b}`) }),
      bandCost: (b) => t('energy.bandCost', { band: t(`energy.bands.${b}`) }),
      mediumLabel: (m: Medium) => t(`energy.media.${m}`),
    });
    const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `warden-energy-cost-${asked.fromS}_${asked.toS}.csv`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const error = fetched.error ?? costs.error;
  return (
    <section className="page" aria-labelledby="energy-cost-title">
      <div className="page-head">
        <h1 id="energy-cost-title">{t('energy.costTitle')}</h1>
        <label>
          {t('energy.costUnit')}{' '}
          <select value={unit} onChange={(e) => setUnit(e.target.value as 'day' | 'month')} data-testid="energy-cost-unit">
            <option value="day">{t('energy.byDay')}</option>
            <option value="month">{t('energy.byMonth')}</option>
          </select>
        </label>
        <label>
          {t('energy.from')} <input type="date" value={fromS} onChange={(e) => setFrom(e.target.value)} data-testid="energy-cost-from" />
        </label>
        <label>
          {t('energy.to')} <input type="date" value={toS} onChange={(e) => setTo(e.target.value)} data-testid="energy-cost-to" />
        </label>
        <label>
          {t('energy.nodes')}{' '}
          <select value={scope} onChange={(e) => setScope(e.target.value as Scope)} data-testid="energy-cost-scope">
            <option value="campus">{t('energy.nodesCampus')}</option>
            <option value="all">{t('energy.nodesAll')}</option>
          </select>
        </label>
        <button type="button" onClick={() => setAsked({ unit, fromS, toS, scope })} data-testid="energy-cost-run">
          {t('energy.run')}
        </button>
        <button type="button" className="primary" onClick={exportCsv} disabled={rows.length === 0} data-testid="energy-cost-export">
          {t('energy.export')}
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {t('energy.loadFailed', { message: error })}
        </p>
      )}
      {tooMany && (
        <p className="error" role="alert">
          {t('energy.tooMany', { max: MAX_QUERIES })}
        </p>
      )}
      {costs.loading && <p className="muted">{t('common.loading')}</p>}
      <p data-testid="energy-cost-total" data-total={costTotal(rows)} data-rows={rows.length}>
        <strong>{t('energy.reportTotal', { cost: formatNumber(costTotal(rows), i18n.language) })}</strong>
      </p>
      <div className="table-wrap">
        <table className="table" data-testid="energy-cost-table">
          <thead>
            <tr>
              <th>{t('energy.period')}</th>
              <th>{t('energy.node')}</th>
              <th>{t('energy.medium')}</th>
              <th className="num">{t('energy.amount')}</th>
              {BANDS.map((b) => (
                <th key={b} className="num">
                  {t(`energy.bands.${b}`)}
                </th>
              ))}
              <th className="num">{t('energy.costCol')}</th>
              <th className="num">{t('energy.unpriced')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.period}|${r.node}|${r.medium}`} data-testid="energy-cost-row" data-period={r.period} data-node={r.node} data-medium={r.medium} data-cost={r.cost}>
                <td className="mono">{r.period}</td>
                <td>
                  <a href={`#/energy/${encodeURIComponent(r.node)}`}>{r.nodeName}</a>
                </td>
                <td>{t(`energy.media.${r.medium}`)}</td>
                <td className="num">
                  {formatNumber(r.amount, i18n.language)} {r.unit}
                </td>
                {BANDS.map((b) => (
                  <td key={b} className="num" data-band={b}>
                    {r.bands[b] ? `${formatNumber(r.bands[b].amount, i18n.language)} / ¥${formatNumber(r.bands[b].cost, i18n.language)}` : '–'}
                  </td>
                ))}
                <td className="num">¥{formatNumber(r.cost, i18n.language)}</td>
                <td className="num">{r.unpriced ? formatNumber(r.unpriced, i18n.language) : '–'}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {costs.data && rows.length === 0 && <p className="empty">{t('energy.reportEmpty')}</p>}
      </div>
    </section>
  );
}
