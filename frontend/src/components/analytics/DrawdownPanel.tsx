import { useMemo } from 'react';
import { usePortfolio } from '../../api/portfolio';
import { drawdownFromEquity, formatPct } from '../../lib/format';
import { DrawdownChart } from '../common/DrawdownChart';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';

export function DrawdownPanel() {
  const portfolio = usePortfolio();
  const points = useMemo(() => drawdownFromEquity(portfolio.data?.equity_curve ?? []), [portfolio.data?.equity_curve]);
  return (
    <Panel
      title="Drawdown"
      testId="drawdown-panel"
      actions={portfolio.data && <span className="muted">current {formatPct(Math.abs(portfolio.data.drawdown))}</span>}
    >
      <QueryState query={portfolio} isEmpty={(p) => p.equity_curve.length < 2} empty="Not enough equity history for a drawdown chart yet.">
        {() => <DrawdownChart points={points} />}
      </QueryState>
    </Panel>
  );
}
