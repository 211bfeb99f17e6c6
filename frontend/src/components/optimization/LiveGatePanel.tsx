import { useLiveGate } from '../../api/backtests';
import type { LiveGate } from '../../api/models';
import { formatDateTime, formatStat } from '../../lib/format';
import { Panel } from '../common/Panel';
import { Pill, type Tone } from '../common/Pill';
import { QueryState } from '../common/States';

const STATE: Record<LiveGate['state'], { tone: Tone; words: string }> = {
  off: { tone: 'neutral', words: 'paper trading: the gate applies once trading.mode is live' },
  disabled: { tone: 'bad', words: 'live trading runs WITHOUT the gate (live_gate.enabled: false)' },
  passed: { tone: 'good', words: 'live trading allowed by a passing walk-forward report' },
  refused: { tone: 'bad', words: 'live trading refused: the agent does not start (checked at every start)' },
};

/** The gate before live trading: its state, the stored report's figures and what fails. */
export function LiveGatePanel() {
  const gate = useLiveGate();
  return (
    <Panel title="Live gate" testId="live-gate-panel">
      <QueryState query={gate}>
        {(g) => {
          const report = g.report as Record<string, unknown> | null;
          return (
            <div data-testid="live-gate" data-state={g.state}>
              <p className="row">
                <Pill tone={STATE[g.state].tone} testId="live-gate-state">{g.state}</Pill>
                <span className="small">{STATE[g.state].words}</span>
              </p>
              {report ? (
                <p className="small muted" data-testid="live-gate-report">
                  Report of {formatDateTime(String(report.created_at ?? ''))} on {String(report.instrument ?? '')}: PBO {formatStat(report.pbo)} · deflated Sharpe{' '}
                  {formatStat(report.deflated_sharpe)} · out-of-sample return {formatStat(report.oos_return_pct)}% · max drawdown {formatStat(report.max_drawdown_pct)}% (valid{' '}
                  {g.max_age_days} days)
                </p>
              ) : (
                <p className="small muted">No walk-forward report yet: run ffe replay --walk-forward, or a replay here with Walk-forward ticked.</p>
              )}
              {g.failures.length > 0 && (
                <ul className="small warn-text" data-testid="live-gate-failures">
                  {g.failures.map((f) => (
                    <li key={f}>{f}</li>
                  ))}
                </ul>
              )}
            </div>
          );
        }}
      </QueryState>
    </Panel>
  );
}
