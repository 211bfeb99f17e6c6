import { usePortfolio } from '../../api/portfolio';
import { formatPct } from '../../lib/format';
import { DrawdownChart } from '../common/DrawdownChart';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';

export function DrawdownPanel() {
  const portfolio = usePortfolio();
  return (
    <Panel
      title="Drawdown"
      testId="drawdown-panel"
      actions={
        portfolio.data && (
          <span className="muted">
            current {formatPct(portfolio.data.equity_curve.at(-1)?.drawdown ?? 0)} · max {formatPct(portfolio.data.drawdown)}
          </span>
        )
      }
    >
      <QueryState query={portfolio} isEmpty={(p) => p.equity_curve.length < 2} empty="Not enough equity history for a drawdown chart yet.">
        {(p) => <DrawdownChart points={p.equity_curve} />}
      </QueryState>
    </Panel>
  );
}
