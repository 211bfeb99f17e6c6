import { useEffect, useRef } from 'react';
import { AreaSeries, ColorType, createChart, type IChartApi, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts';
import { formatAxisMoney, isoToUnixSeconds } from '../../lib/format';

export interface TimeValue {
  ts: string;
  value: number | null;
}

/** Sorted, de-duplicated (last value wins) points in the shape lightweight-charts wants. */
export function toChartData(points: TimeValue[]): { time: UTCTimestamp; value: number }[] {
  const byTime = new Map<number, number>();
  for (const p of points) {
    const t = isoToUnixSeconds(p.ts);
    if (Number.isFinite(t) && typeof p.value === 'number' && Number.isFinite(p.value)) byTime.set(t, p.value);
  }
  return [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([t, v]) => ({ time: t as UTCTimestamp, value: v }));
}

interface EquityChartProps {
  points: TimeValue[];
  height?: number;
  testId?: string;
  color?: string;
  ariaLabel?: string;
  /** The axis reads as money in this currency ("$100,000"). */
  currency?: string;
}

/** Equity / price curve drawn with TradingView lightweight-charts. */
export function EquityChart({ points, height = 260, testId = 'equity-chart', color = '#22c55e', ariaLabel = 'Equity curve', currency = 'USD' }: EquityChartProps) {
  const containerRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);
  const seriesRef = useRef<ISeriesApi<'Area'> | null>(null);

  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    const chart = createChart(el, {
      autoSize: true,
      height,
      layout: {
        background: { type: ColorType.Solid, color: 'transparent' },
        textColor: '#94a3b8',
        attributionLogo: false,
      },
      grid: { vertLines: { color: 'rgba(148,163,184,0.08)' }, horzLines: { color: 'rgba(148,163,184,0.08)' } },
      rightPriceScale: { borderVisible: false, minimumWidth: 90 },
      localization: { priceFormatter: (p: number) => formatAxisMoney(p, currency) },
      timeScale: { borderVisible: false, timeVisible: true, secondsVisible: false },
      handleScroll: false,
      handleScale: false,
    });
    const series = chart.addSeries(AreaSeries, {
      lineColor: color,
      topColor: `${color}55`,
      bottomColor: `${color}05`,
      lineWidth: 2,
      priceLineVisible: false,
    });
    chartRef.current = chart;
    seriesRef.current = series;
    return () => {
      chart.remove();
      chartRef.current = null;
      seriesRef.current = null;
    };
  }, [height, color, currency]);

  useEffect(() => {
    const series = seriesRef.current;
    if (!series) return;
    series.setData(toChartData(points));
    chartRef.current?.timeScale().fitContent();
  }, [points, height, color]);

  return (
    <div
      ref={containerRef}
      className="chart chart-equity"
      style={{ height }}
      data-testid={testId}
      data-points={points.length}
      role="img"
      aria-label={ariaLabel}
    />
  );
}
