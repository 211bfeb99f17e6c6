import { useProviders } from '../../api/providers';
import { formatNumber, formatPct, signClass } from '../../lib/format';
import { Panel } from '../common/Panel';
import { Pill } from '../common/Pill';
import { QueryState } from '../common/States';

export function ProviderTable() {
  const providers = useProviders();
  return (
    <Panel title="Provider performance" className="span-2" testId="providers-panel">
      <QueryState query={providers} isEmpty={(d) => d.items.length === 0} empty="No providers registered.">
        {(d) => (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col" className="num">Weight</th>
                  <th scope="col" className="num">Votes</th>
                  <th scope="col" className="num">Scored</th>
                  <th scope="col" className="num">Hit rate</th>
                  <th scope="col" className="num">Brier</th>
                  <th scope="col" className="num">P&amp;L</th>
                  <th scope="col">Circuit</th>
                  <th scope="col">Last reason</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((p) => (
                  <tr key={p.provider} data-testid="provider-row">
                    <td>
                      {p.provider}
                      {p.enabled === false && (
                        <>
                          {' '}
                          <Pill tone="neutral">disabled</Pill>
                        </>
                      )}
                      {p.demoted && (
                        <>
                          {' '}
                          <Pill tone="bad" title={`Held at the weight floor by costs.demote: ${p.demoted}`} testId="provider-demoted">
                            demoted
                          </Pill>
                        </>
                      )}
                    </td>
                    <td className="num">{p.weight.toFixed(3)}</td>
                    <td className="num">{p.votes}</td>
                    <td className="num" data-testid="provider-scored">
                      {p.scored}
                      {p.provisional && (
                        <>
                          {' '}
                          <Pill tone="warn" title="Fewer than 30 votes scored: early figures, still moving" testId="provider-provisional">
                            provisional
                          </Pill>
                        </>
                      )}
                    </td>
                    <td className="num">{formatPct(p.hit_rate, 1)}</td>
                    <td className="num">{p.brier === null ? '—' : p.brier.toFixed(3)}</td>
                    <td className={`num ${signClass(p.pnl)}`}>{formatNumber(p.pnl, 2)}</td>
                    <td>
                      {p.circuit ? (
                        <Pill tone={p.circuit.state === 'open' ? 'bad' : p.circuit.state === 'half_open' ? 'warn' : 'good'} title={p.circuit.last_error ?? undefined}>
                          {p.circuit.state}
                        </Pill>
                      ) : (
                        '—'
                      )}
                    </td>
                    <td className="reasoning-cell">
                      {p.demoted && <div data-testid="provider-demoted-reason">Demoted: {p.demoted}</div>}
                      {p.last_reason || '—'}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
    </Panel>
  );
}
