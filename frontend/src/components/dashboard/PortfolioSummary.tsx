import { usePortfolio } from '../../api/portfolio';
import { formatMoney, formatPct, formatSignedMoney, signClass } from '../../lib/format';
import { ModeBadge } from '../common/ModeBadge';
import { Panel } from '../common/Panel';
import { Stat } from '../common/Stat';
import { QueryState } from '../common/States';

export function PortfolioSummary() {
  const portfolio = usePortfolio();
  return (
    <Panel
      title="Portfolio"
      testId="portfolio-summary"
      actions={<ModeBadge mode={portfolio.data?.mode} size="large" />}
    >
      <QueryState query={portfolio} loadingLabel="Loading portfolio…">
        {(p) => (
          <div className="stats-grid">
            <Stat label="Portfolio value" value={formatMoney(p.equity, p.currency)} testId="portfolio-equity" className="big" />
            <Stat
              label="P&L"
              value={`${formatSignedMoney(p.pnl, p.currency)} (${formatPct(p.pnl_pct / 100, 2, true)})`}
              className={signClass(p.pnl)}
              testId="portfolio-pnl"
            />
            <Stat label="Cash" value={formatMoney(p.cash, p.currency)} />
            <Stat label="Realized P&L" value={formatSignedMoney(p.realized_pnl, p.currency)} className={signClass(p.realized_pnl)} />
            <Stat label="Unrealized P&L" value={formatSignedMoney(p.unrealized_pnl, p.currency)} className={signClass(p.unrealized_pnl)} />
            <Stat label="Gross exposure" value={formatMoney(p.gross_exposure, p.currency)} />
            <Stat label="Drawdown" value={formatPct(Math.abs(p.drawdown))} className={p.drawdown ? 'negative' : 'neutral'} />
            <Stat label="Broker" value={p.broker} hint={`Initial ${formatMoney(p.initial_cash, p.currency)}`} />
          </div>
        )}
      </QueryState>
    </Panel>
  );
}
