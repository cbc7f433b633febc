import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Detection } from '@warden/contract';
import { anomalyChartData } from '../lib/energy.ts';

/**
 * One meter's hours around an alert as the detector saw them (GET /api/energy/detection): the use as a line, the
 * expected use dashed, the band outside which it alerts shaded, and the alert's hours marked in red.
 */
export function AnomalyChart({ detection, alert, labels, height = 220 }: { detection: Detection; alert: { from: number; to: number }; labels: { value: string; expected: string; band: string; alert: string }; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  const data = anomalyChartData(detection.hours, alert);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height,
      series: [
        {},
        { label: labels.value, stroke: '#3d7fe6', width: 2, points: { show: false } },
        { label: labels.band, stroke: '#30a46c55', width: 1, points: { show: false } },
        { label: `${labels.band} ↑`, stroke: '#30a46c55', width: 1, points: { show: false } },
        { label: labels.expected, stroke: '#30a46c', width: 1, dash: [6, 4], points: { show: false } },
        { label: labels.alert, stroke: '#e5484d', width: 3, points: { show: true, size: 6, fill: '#e5484d' } },
      ],
      bands: [{ series: [3, 2], fill: '#30a46c26' }],
      axes: [{}, { label: detection.unit, size: 60 }],
      scales: { x: { time: true } },
      legend: { live: false },
    };
    const u = new uPlot(opts, data.series as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [detection, alert.from, alert.to, height]);

  return (
    <div
      ref={box}
      className="energy-chart"
      data-testid="anomaly-chart"
      data-hours={data.hours}
      data-band-hours={data.bandHours}
      data-alert-hours={data.alertHours}
      data-outside-band={data.outsideBand}
    />
  );
}
