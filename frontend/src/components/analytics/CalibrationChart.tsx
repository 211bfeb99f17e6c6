import { Bar, BarChart, CartesianGrid, Cell, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useProviders } from '../../api/providers';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';
import { colorFor } from './palette';

/** Brier score per provider (lower is better; 0.25 is a coin flip at 50% confidence). */
export function CalibrationChart() {
  const providers = useProviders();
  return (
    <Panel title="Calibration (Brier score, lower is better)" testId="calibration-panel">
      <QueryState
        query={providers}
        isEmpty={(d) => d.items.every((p) => p.brier === null)}
        empty="No scored votes yet — Brier scores appear once outcomes are known."
      >
        {(d) => {
          const data = d.items.filter((p) => p.brier !== null).map((p) => ({ provider: p.provider, brier: p.brier, hit: p.hit_rate }));
          return (
            <div className="chart" style={{ height: 260 }} data-testid="calibration-chart">
              <ResponsiveContainer width="100%" height="100%">
                <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
                  <CartesianGrid stroke="rgba(148,163,184,0.1)" vertical={false} />
                  <XAxis dataKey="provider" stroke="#64748b" fontSize={11} interval={0} />
                  <YAxis stroke="#64748b" fontSize={11} width={40} domain={[0, (max: number) => Math.max(0.3, max)]} />
                  <Tooltip formatter={(v) => [Number(v).toFixed(3), 'Brier']} contentStyle={{ background: '#0f172a', border: '1px solid #334155' }} />
                  <ReferenceLine y={0.25} stroke="#f59e0b" strokeDasharray="4 4" label={{ value: 'coin flip', fill: '#f59e0b', fontSize: 11, position: 'insideTopRight' }} />
                  <Bar dataKey="brier" isAnimationActive={false}>
                    {data.map((row, i) => (
                      <Cell key={row.provider} fill={colorFor(i)} />
                    ))}
                  </Bar>
                </BarChart>
              </ResponsiveContainer>
            </div>
          );
        }}
      </QueryState>
    </Panel>
  );
}
