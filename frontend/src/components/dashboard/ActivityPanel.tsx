import { Link } from 'react-router';
import { useAgentStatus } from '../../api/agent';
import { useApprovals } from '../../api/approvals';
import { useDecisions } from '../../api/decisions';
import { isOpenOrder, useOrders, usePositions } from '../../api/portfolio';
import type { AgentState, Decision } from '../../api/models';
import { formatAgo, formatNextDecision, formatPct } from '../../lib/format';
import { useNow } from '../../lib/useNow';
import { Panel } from '../common/Panel';
import { Pill, type Tone } from '../common/Pill';
import { QueryState } from '../common/States';

const TONE: Record<AgentState, Tone> = { running: 'good', paused: 'warn', stopped: 'neutral' };

const WAITING: Record<AgentState, string> = {
  running: 'next decision due',
  paused: 'paused: no decision until resumed',
  stopped: 'stopped: no decision until started',
};

/** One sentence for the newest decision: what, on which instrument, and what risk made of it. */
function decided(d: Decision): string {
  const what = `${d.action} ${d.instrument} at ${formatPct(d.confidence, 0)} confidence`;
  if (d.action === 'HOLD' || !d.risk) return what;
  return d.risk.approved ? `${what}; risk approved` : `${what}; risk refused: ${d.risk.reason}`;
}

function Count({ label, value, testId }: { label: string; value: number | undefined; testId: string }) {
  return (
    <li data-testid={testId} data-count={value ?? ''}>
      <span className="stat-value">{value ?? '—'}</span> <span className="muted small">{label}</span>
    </li>
  );
}

/**
 * "What ffe is doing", in a few lines on the main page: the agent's state, its last cycle and what
 * it decided, when the next decision is due, and how many positions, open orders and pending
 * approvals there are. The agent strip on every page stays the compact form of the same status.
 */
export function ActivityPanel() {
  const status = useAgentStatus();
  const decisions = useDecisions();
  const positions = usePositions();
  const orders = useOrders();
  const pending = useApprovals('pending');
  const now = useNow();
  const latest = decisions.data?.items[0];
  return (
    <Panel title="What ffe is doing" testId="activity-panel" className="span-2">
      <QueryState query={status} loadingLabel="Loading agent status…">
        {(s) => (
          <div className="activity" data-state={s.state}>
            <p data-testid="activity-state">
              Agent <Pill tone={TONE[s.state] ?? 'neutral'}>{s.state}</Pill>
              {s.current_phase && (
                <span className="muted">
                  {' '}
                  now {s.current_phase}
                  {s.current_instrument ? ` ${s.current_instrument}` : ''}
                </span>
              )}
              {s.kill_switch.tripped && (
                <>
                  {' '}
                  <Pill tone="bad">kill switch tripped</Pill>
                </>
              )}
            </p>
            <p data-testid="activity-last-cycle" title={s.last_cycle_at ?? undefined}>
              Last cycle {formatAgo(s.last_cycle_at, now)}
              {latest ? (
                <>
                  {': '}
                  <Link to={`/decisions/${encodeURIComponent(latest.id)}`} data-testid="activity-last-decision" data-action={latest.action}>
                    {decided(latest)}
                  </Link>
                </>
              ) : (
                <span className="muted">: no decision yet</span>
              )}
            </p>
            <p data-testid="activity-next">
              {formatNextDecision(s.state, s.last_cycle_at, s.interval_seconds, now) ?? WAITING[s.state]}
              <span className="muted"> (every {s.interval_seconds}s)</span>
            </p>
            {s.last_error && (
              <p className="error-text small" data-testid="activity-error">
                Last error: {s.last_error}
              </p>
            )}
            <ul className="activity-counts" aria-label="Counts">
              <Count label={s.cycles === 1 ? 'cycle' : 'cycles'} value={s.cycles} testId="activity-count-cycles" />
              <Count label="positions" value={positions.data?.length} testId="activity-count-positions" />
              <Count label="open orders" value={orders.data?.filter(isOpenOrder).length} testId="activity-count-orders" />
              <Count label="pending approvals" value={pending.data?.length} testId="activity-count-approvals" />
            </ul>
          </div>
        )}
      </QueryState>
    </Panel>
  );
}
