import { useBacktests } from '../../api/backtests';
import { Panel } from '../common/Panel';
import { Pill } from '../common/Pill';
import { QueryState } from '../common/States';
import { jobSubject } from './JobView';

export function JobsList({ selectedId, onSelect }: { selectedId: string | null; onSelect: (id: string) => void }) {
  const jobs = useBacktests();
  return (
    <Panel title="Recent jobs" testId="jobs-panel">
      <QueryState query={jobs} isEmpty={(items) => items.length === 0} empty="No jobs yet.">
        {(items) => (
          <ul className="job-list">
            {items.slice(0, 20).map((j) => (
              <li key={j.id}>
                <button
                  type="button"
                  className={`job-item${j.id === selectedId ? ' active' : ''}`}
                  onClick={() => onSelect(j.id)}
                  aria-current={j.id === selectedId ? 'true' : undefined}
                  data-testid="job-item"
                >
                  <Pill tone={j.status === 'done' ? 'good' : j.status === 'failed' ? 'bad' : j.status === 'cancelled' ? 'warn' : 'info'}>{j.status}</Pill>
                  <span>{j.kind}</span>
                  <span className="muted small">
                    {jobSubject(j)}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        )}
      </QueryState>
    </Panel>
  );
}
