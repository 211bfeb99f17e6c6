import { useHealth } from '../../api/health';
import type { CircuitBreakerInfo } from '../../api/models';

function stateTone(state: string): string {
  if (state === 'open') return 'bad';
  if (state === 'half_open') return 'warn';
  return 'good';
}

export function summarizeBreakers(breakers: CircuitBreakerInfo[]): { tone: string; label: string } {
  const open = breakers.filter((b) => b.state === 'open').length;
  const half = breakers.filter((b) => b.state === 'half_open').length;
  if (breakers.length === 0) return { tone: 'neutral', label: 'No breakers' };
  if (open > 0) return { tone: 'bad', label: `${open} open` };
  if (half > 0) return { tone: 'warn', label: `${half} half-open` };
  return { tone: 'good', label: 'All closed' };
}

/** Circuit-breaker summary shown in the header on every page; click to see each breaker. */
export function CircuitBreakerStatus() {
  const health = useHealth();
  const breakers = health.data?.circuit_breakers ?? [];
  const summary = health.data
    ? summarizeBreakers(breakers)
    : health.isPending
      ? { tone: 'neutral', label: '…' }
      : { tone: 'neutral', label: 'unknown' };

  return (
    <details className="breakers" data-testid="circuit-breakers" data-state={summary.tone}>
      <summary aria-label={`Circuit breakers: ${summary.label}`}>
        <span className={`dot dot-${summary.tone}`} aria-hidden="true" />
        <span className="breakers-label">Breakers:</span> <span>{summary.label}</span>
      </summary>
      <div className="breakers-menu">
        {breakers.length === 0 ? (
          <p className="muted">{health.data ? 'No circuit breakers registered.' : 'Health unavailable.'}</p>
        ) : (
          <ul>
            {breakers.map((b) => (
              <li key={b.name} data-testid="circuit-breaker" data-breaker-state={b.state}>
                <span className={`dot dot-${stateTone(b.state)}`} aria-hidden="true" />
                <strong>{b.name}</strong> <span className="muted">{b.state.replace('_', '-')}</span>
                {b.failures > 0 && <span className="muted"> · {b.failures} failures</span>}
                {b.last_error && <div className="breaker-error">{b.last_error}</div>}
              </li>
            ))}
          </ul>
        )}
      </div>
    </details>
  );
}
