import { useMemo } from 'react';
import { usePortfolio } from '../../api/portfolio';
import { EquityChart } from '../common/EquityChart';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';

export function EquityPanel() {
  const portfolio = usePortfolio();
  const points = useMemo(
    () => (portfolio.data?.equity_curve ?? []).map((p) => ({ ts: p.ts, value: p.equity })),
    [portfolio.data?.equity_curve],
  );
  return (
    <Panel title="Equity curve" className="span-2">
      <QueryState
        query={portfolio}
        isEmpty={(p) => p.equity_curve.length === 0}
        empty="No equity history yet — it fills in as the agent runs."
      >
        {(p) => <EquityChart points={points} currency={p.currency} />}
      </QueryState>
    </Panel>
  );
}
