import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { formatDateTime, formatPct, timeTickFormatter } from '../../lib/format';

/** Underwater (drawdown) chart. Accepts drawdowns as positive or negative fractions; plots them ≤ 0. */
export function DrawdownChart({ points, height = 200, testId = 'drawdown-chart' }: { points: { ts: string; drawdown: number | null }[]; height?: number; testId?: string }) {
  const data = points.filter((p) => p.drawdown !== null && Number.isFinite(p.drawdown)).map((p) => ({ ts: p.ts, dd: -Math.abs(p.drawdown!) }));
  const tick = timeTickFormatter(spanMs(data.map((p) => p.ts)));
  return (
    <div className="chart" style={{ height }} data-testid={testId} data-points={points.length}>
      <ResponsiveContainer width="100%" height="100%">
        <AreaChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="rgba(148,163,184,0.1)" vertical={false} />
          <XAxis dataKey="ts" tickFormatter={tick} minTickGap={40} stroke="#64748b" fontSize={11} />
          <YAxis tickFormatter={drawdownTick} stroke="#64748b" fontSize={11} width={48} domain={DOMAIN} />
          <Tooltip
            formatter={(v) => [formatPct(Number(v), 2), 'Drawdown']}
            labelFormatter={(l) => formatDateTime(String(l))}
            contentStyle={{ background: '#0f172a', border: '1px solid #334155' }}
          />
          <Area type="monotone" dataKey="dd" stroke="#ef4444" fill="#ef444433" isAnimationActive={false} />
        </AreaChart>
      </ResponsiveContainer>
    </div>
  );
}

/**
 * At least 1 % deep: with a flat (all-zero) series, an automatic domain ends up spanning 0 to +400 %,
 * a drawdown that cannot exist.
 */
const DOMAIN: [(dataMin: number) => number, number] = [(dataMin) => Math.min(dataMin, -0.01), 0];

/** Axis ticks with enough digits to tell -0.25 % from -0.5 %. */
export function drawdownTick(v: number): string {
  const a = Math.abs(v);
  return formatPct(v, a === 0 || a >= 0.1 ? 0 : a >= 0.01 ? 1 : 2);
}

/** Milliseconds from the first to the last of `times` (0 when fewer than two parse). */
export function spanMs(times: readonly string[]): number {
  const ms = times.map((t) => new Date(t).getTime()).filter((t) => !Number.isNaN(t));
  return ms.length > 1 ? Math.max(...ms) - Math.min(...ms) : 0;
}
