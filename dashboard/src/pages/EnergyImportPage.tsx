import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import type { EnergyImportResult } from '@warden/contract';
import { fullTime } from '../lib/format.ts';
import { importFormat } from '../lib/energy.ts';
import { useSignedIn } from '../state/auth.tsx';

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result));
    r.onerror = () => reject(r.error ?? new Error('unreadable file'));
    r.readAsDataURL(file);
  });
}

/**
 * Meter history import (POST /api/energy/import): a CSV or XLSX of register readings (meter, ts, kwh) or interval
 * consumption (meter, start, end, kwh). Checked first (dry run) or imported at once; a refused file lists every bad
 * row with its reason, and nothing of it is stored.
 */
export function EnergyImportPage() {
  const { t } = useTranslation();
  const { api } = useSignedIn();
  const [file, setFile] = useState<File | null>(null);
  const [dryRun, setDryRun] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<EnergyImportResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const format = file ? importFormat(file.name) : null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!file || !format) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const data = await readAsDataUrl(file);
      setResult(await api('POST /api/energy/import', { body: { format, data, dryRun } }));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="page" aria-labelledby="energy-import-title">
      <div className="page-head">
        <h1 id="energy-import-title">{t('energy.import.title')}</h1>
      </div>
      <p className="muted">{t('energy.import.hint')}</p>
      <form className="card" onSubmit={(e) => void submit(e)}>
        <label>
          {t('energy.import.file')}{' '}
          <input type="file" accept=".csv,.xlsx,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} data-testid="energy-import-file" />
        </label>
        <label>
          <input type="checkbox" checked={dryRun} onChange={(e) => setDryRun(e.target.checked)} data-testid="energy-import-dry" /> {t('energy.import.dryRun')}
        </label>
        <button type="submit" disabled={busy || !format} data-testid="energy-import-submit">
          {busy ? t('energy.import.working') : t('energy.import.submit')}
        </button>
        {file && !format && <p className="error">{t('energy.import.badFormat')}</p>}
      </form>
      {error && (
        <p className="error" role="alert" data-testid="energy-import-failed">
          {error}
        </p>
      )}
      {result?.ok === true && (
        <div className="card" data-testid="energy-import-ok" data-imported={result.imported} data-unchanged={result.unchanged} data-kind={result.kind}>
          <p>{t(result.dryRun ? 'energy.import.checked' : 'energy.import.done', { rows: result.rows, imported: result.imported, unchanged: result.unchanged, meters: result.meters.length })}</p>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>{t('energy.meter')}</th>
                  <th>{t('energy.from')}</th>
                  <th>{t('energy.to')}</th>
                  <th>{t('energy.import.rows')}</th>
                  <th>{t('energy.import.new')}</th>
                </tr>
              </thead>
              <tbody>
                {result.meters.map((m) => (
                  <tr key={m.meter}>
                    <td className="mono">
                      <a href={`#/energy/${encodeURIComponent(m.meter)}`}>{m.meter}</a>
                    </td>
                    <td className="mono">{fullTime(m.from)}</td>
                    <td className="mono">{fullTime(m.to)}</td>
                    <td>{m.readings}</td>
                    <td>{m.new}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
      {result?.ok === false && (
        <div className="card" data-testid="energy-import-errors" data-count={result.errors.length}>
          <p className="error" role="alert">
            {t('energy.import.refused', { count: result.errors.length })}
          </p>
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th>{t('energy.import.row')}</th>
                  <th>{t('energy.import.reason')}</th>
                </tr>
              </thead>
              <tbody>
                {result.errors.map((e, i) => (
                  <tr key={`${e.row}|${i}`} data-testid="energy-import-error" data-row={e.row}>
                    <td className="mono">{e.row}</td>
                    <td>{e.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      )}
    </section>
  );
}
