import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { alignSeries, type ChartSeries } from '../lib/energy.ts';

const COLORS = ['#3d7fe6', '#e0a030', '#e5484d', '#30a46c', '#8e4ec6'];

/**
 * Consumption per bucket as bars (uPlot, canvas): the first series is the node, the others (virtual meters such
 * as losses) are lines over it. Sized to its container and redrawn when the data changes.
 */
export function EnergyChart({ series, unit, height = 260, testId = 'energy-chart' }: { series: ChartSeries[]; unit: string; height?: number; testId?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = alignSeries(series);
  const shape = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height,
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          fill: i === 0 ? `${COLORS[0]}55` : undefined,
          width: i === 0 ? 1 : 2,
          paths: i === 0 ? uPlot.paths.bars!({ size: [0.8, 40] }) : undefined,
          points: { show: false },
        })),
      ],
      axes: [{}, { label: unit, size: 60 }],
      scales: { x: { time: true } },
      legend: { live: false },
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(300, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Recreated only when the series set changes; new numbers go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, unit, height]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  });

  const points = data[0].length;
  return <div ref={box} className="energy-chart" data-testid={testId} data-points={points} data-series={series.length} />;
}
