import { Link } from 'react-router';
import { useAgentStatus } from '../../api/agent';
import type { AgentState } from '../../api/models';
import { formatAgo, formatNextDecision } from '../../lib/format';
import { useNow } from '../../lib/useNow';
import { Pill, type Tone } from '../common/Pill';

const TONE: Record<AgentState, Tone> = { running: 'good', paused: 'warn', stopped: 'neutral' };

/** What ffe is doing, on every page: running / paused / stopped, cycles, the last cycle, the next
 * decision's countdown, the current phase, the kill switch. */
export function AgentStrip() {
  const status = useAgentStatus();
  const now = useNow();
  const s = status.data;
  if (!s) {
    return (
      <div className="agent-strip muted small" data-testid="agent-strip" data-state="unknown">
        Agent: {status.isError ? 'status unavailable' : 'loading…'}
      </div>
    );
  }
  const next = formatNextDecision(s.state, s.last_cycle_at, s.interval_seconds, now);
  const doing = s.current_phase ? `${s.current_phase}${s.current_instrument ? ` ${s.current_instrument}` : ''}` : null;
  return (
    <div className="agent-strip small" data-testid="agent-strip" data-state={s.state} role="status" aria-label="Agent status">
      <span>Agent</span>
      <Pill tone={TONE[s.state] ?? 'neutral'} testId="agent-strip-state">{s.state}</Pill>
      <span data-testid="agent-strip-cycles">
        {s.cycles} cycle{s.cycles === 1 ? '' : 's'} · every {s.interval_seconds}s
      </span>
      <span data-testid="agent-strip-last-cycle" title={s.last_cycle_at ?? undefined}>
        last cycle {formatAgo(s.last_cycle_at, now)}
      </span>
      {doing && <span className="muted">now: {doing}</span>}
      {next && <span data-testid="agent-strip-next">{next}</span>}
      {s.kill_switch.tripped && (
        <Pill tone="bad" testId="agent-strip-kill-switch">kill switch tripped</Pill>
      )}
      {s.last_error && <span className="error-text" title={s.last_error}>last error</span>}
      <Link to="/agent-control" className="agent-strip-link">control</Link>
    </div>
  );
}
