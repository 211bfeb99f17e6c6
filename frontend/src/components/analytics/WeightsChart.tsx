import { useMemo } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useProviders } from '../../api/providers';
import type { WeightSnapshot } from '../../api/models';
import { formatDateTime, timeTickFormatter } from '../../lib/format';
import { spanMs } from '../common/DrawdownChart';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';
import { colorFor } from './palette';

export function weightRows(history: WeightSnapshot[]): { rows: Record<string, number | string>[]; providers: string[] } {
  const providers = new Set<string>();
  const rows = history.map((h) => {
    for (const p of Object.keys(h.weights)) providers.add(p);
    return { ts: h.ts, ...h.weights };
  });
  return { rows, providers: [...providers].sort() };
}

export function WeightsChart() {
  const providers = useProviders();
  const series = useMemo(() => weightRows(providers.data?.weight_history ?? []), [providers.data?.weight_history]);
  const tick = useMemo(() => timeTickFormatter(spanMs(series.rows.map((r) => String(r.ts)))), [series.rows]);
  return (
    <Panel title="Provider weights over time" testId="weights-panel">
      <QueryState query={providers} isEmpty={(d) => d.weight_history.length === 0} empty="No weight history yet — weights change as decisions are scored.">
        {() => (
          <div className="chart" style={{ height: 260 }} data-testid="weights-chart">
            <ResponsiveContainer width="100%" height="100%">
              <LineChart data={series.rows} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
                <CartesianGrid stroke="rgba(148,163,184,0.1)" vertical={false} />
                <XAxis dataKey="ts" tickFormatter={tick} minTickGap={40} stroke="#64748b" fontSize={11} />
                <YAxis stroke="#64748b" fontSize={11} width={40} domain={[0, 'auto']} />
                <Tooltip labelFormatter={(l) => formatDateTime(String(l))} contentStyle={{ background: '#0f172a', border: '1px solid #334155' }} />
                <Legend wrapperStyle={{ fontSize: 12 }} />
                {series.providers.map((p, i) => (
                  <Line key={p} type="stepAfter" dataKey={p} stroke={colorFor(i)} dot={false} isAnimationActive={false} connectNulls />
                ))}
              </LineChart>
            </ResponsiveContainer>
          </div>
        )}
      </QueryState>
    </Panel>
  );
}
