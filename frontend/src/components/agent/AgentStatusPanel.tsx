import { errorMessage } from '../../api/client';
import { useAgentControl, useAgentStatus } from '../../api/agent';
import type { AgentState } from '../../api/models';
import { formatDateTime, formatDuration } from '../../lib/format';
import { Panel } from '../common/Panel';
import { Pill, type Tone } from '../common/Pill';
import { Stat } from '../common/Stat';
import { QueryState } from '../common/States';
import { KillSwitch } from './KillSwitch';

const STATE_TONE: Record<AgentState, Tone> = { running: 'good', paused: 'warn', stopped: 'neutral' };

export function AgentControls({ state }: { state: AgentState | undefined }) {
  const control = useAgentControl();
  const busy = control.isPending;
  return (
    <div className="controls" role="group" aria-label="Agent controls">
      <button
        type="button"
        className="btn btn-primary"
        onClick={() => control.start.mutate()}
        disabled={busy || state === undefined || state !== 'stopped'}
      >
        {control.start.isPending ? 'Starting…' : 'Start agent'}
      </button>
      <button
        type="button"
        className="btn"
        onClick={() => control.pause.mutate()}
        disabled={busy || state !== 'running'}
      >
        Pause agent
      </button>
      <button
        type="button"
        className="btn"
        onClick={() => control.resume.mutate()}
        disabled={busy || state !== 'paused'}
      >
        Resume agent
      </button>
      <button
        type="button"
        className="btn btn-danger"
        onClick={() => control.stop.mutate()}
        disabled={busy || state === undefined || state === 'stopped'}
      >
        Stop agent
      </button>
      {control.error && (
        <p className="error-text" role="alert" data-testid="agent-control-error">
          {errorMessage(control.error)}
        </p>
      )}
    </div>
  );
}

export function AgentStatusPanel() {
  const status = useAgentStatus();
  return (
    <Panel
      title="Agent"
      testId="agent-panel"
      actions={
        status.data && (
          <Pill tone={STATE_TONE[status.data.state] ?? 'neutral'} testId="agent-state">
            {status.data.state}
          </Pill>
        )
      }
    >
      <AgentControls state={status.data?.state} />
      <QueryState query={status} loadingLabel="Loading agent status…">
        {(s) => (
          <>
            <div className="stats-grid">
              <Stat label="State" value={s.state} testId="agent-state-value" />
              <Stat label="Uptime" value={formatDuration(s.uptime_seconds)} testId="agent-uptime" hint={s.started_at ? `since ${formatDateTime(s.started_at)}` : undefined} />
              <Stat label="Cycles" value={s.cycles} testId="agent-cycles" />
              <Stat label="Current phase" value={s.current_phase ?? '—'} testId="agent-phase" hint={s.current_instrument ?? undefined} />
              <Stat label="Interval" value={`${s.interval_seconds}s`} />
              <Stat label="Instruments" value={s.instruments.length ? s.instruments.join(', ') : '—'} />
            </div>
            <KillSwitch ks={s.kill_switch} />
            {s.last_error && (
              <p className="error-text" data-testid="agent-last-error">
                Last error: {s.last_error}
              </p>
            )}
            {s.run_id && <p className="muted small">Run {s.run_id}</p>}
          </>
        )}
      </QueryState>
    </Panel>
  );
}
