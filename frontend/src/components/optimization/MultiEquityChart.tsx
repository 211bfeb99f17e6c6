import { useEffect, useRef } from 'react';
import { ColorType, createChart, LineSeries } from 'lightweight-charts';
import { formatAxisMoney } from '../../lib/format';
import { toChartData } from '../common/EquityChart';

export interface NamedCurve {
  name: string;
  values: (number | null)[];
}

const PALETTE = ['#22c55e', '#3b82f6', '#f59e0b', '#ec4899', '#a855f7', '#14b8a6', '#94a3b8', '#ef4444'];

/** Several equity curves over the same timestamps on one chart, one coloured line each. */
export function MultiEquityChart({ ts, curves, height = 280, currency = 'USD' }: { ts: string[]; curves: NamedCurve[]; height?: number; currency?: string }) {
  const containerRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    const chart = createChart(el, {
      autoSize: true,
      height,
      layout: { background: { type: ColorType.Solid, color: 'transparent' }, textColor: '#94a3b8', attributionLogo: false },
      grid: { vertLines: { color: 'rgba(148,163,184,0.08)' }, horzLines: { color: 'rgba(148,163,184,0.08)' } },
      rightPriceScale: { borderVisible: false, minimumWidth: 90 },
      localization: { priceFormatter: (p: number) => formatAxisMoney(p, currency) },
      timeScale: { borderVisible: false, timeVisible: true, secondsVisible: false },
      handleScroll: false,
      handleScale: false,
    });
    curves.forEach((c, i) => {
      const series = chart.addSeries(LineSeries, { color: PALETTE[i % PALETTE.length], lineWidth: i === 0 ? 3 : 2, priceLineVisible: false, title: c.name });
      series.setData(toChartData(ts.map((t, k) => ({ ts: t, value: c.values[k] ?? null }))));
    });
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [ts, curves, height, currency]);

  return (
    <div>
      <div ref={containerRef} className="chart chart-equity" style={{ height }} data-testid="replay-equity-chart" data-series={curves.length} data-points={ts.length} role="img" aria-label="Equity of the ensemble, each provider alone and the benchmarks" />
      <ul className="chart-legend row small" aria-label="Legend" style={{ listStyle: 'none', padding: 0, flexWrap: 'wrap' }}>
        {curves.map((c, i) => (
          <li key={c.name} data-testid="replay-legend-item">
            <span style={{ color: PALETTE[i % PALETTE.length] }}>■</span> {c.name}
          </li>
        ))}
      </ul>
    </div>
  );
}
