import { useParity } from '../../api/approvals';
import { formatMoney, formatNumber } from '../../lib/format';
import { Panel } from '../common/Panel';
import { Pill } from '../common/Pill';
import { QueryState } from '../common/States';

/** Today's live / backtest parity: the venue's fills against the backtester's fill model. */
export function ParityPanel() {
  const parity = useParity();
  return (
    <Panel title="Parity (venue vs fill model)" testId="parity-panel">
      <QueryState query={parity} loadingLabel="Loading parity…">
        {(p) =>
          p.score == null ? (
            <p className="muted">No fills to judge today.</p>
          ) : (
            <div className="small">
              <div>
                score{' '}
                <Pill tone={p.score >= 0.9 ? 'good' : 'bad'}>
                  <span data-testid="parity-score">{p.score.toFixed(3)}</span>
                </Pill>{' '}
                over {p.judged} fills (0 at {formatNumber(p.tolerance_bps)} bps off)
              </div>
              <div>
                mean slippage {p.mean_slippage_bps != null ? `${formatNumber(p.mean_slippage_bps, 2)} bps` : 'n/a'} · venue only {p.venue_only} ·
                backtest only {p.shadow_only} · P&L divergence <span data-testid="parity-divergence">{formatMoney(p.pnl_divergence)}</span>
              </div>
            </div>
          )
        }
      </QueryState>
    </Panel>
  );
}
