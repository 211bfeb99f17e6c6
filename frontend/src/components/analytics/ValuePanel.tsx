import { useProviderValue } from '../../api/costs';
import { formatMoney, formatNumber, formatSignedMoney } from '../../lib/format';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';

const perUsd = (v: number | null | undefined, digits = 2) => (v == null ? '—' : formatNumber(v, digits));

/** Value for money per provider: what its dollars bought in calibration and in trade P&L. */
export function ValuePanel() {
  const value = useProviderValue();
  return (
    <Panel title="Value for money" testId="value-panel">
      <QueryState query={value} isEmpty={(items) => items.length === 0} empty="No provider calls or scored votes in the window.">
        {(items) => (
          <div className="table-wrap">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col" className="num">Cost</th>
                  <th scope="col" className="num">Scored</th>
                  <th scope="col" className="num">Brier gain</th>
                  <th scope="col" className="num">Brier gain / $</th>
                  <th scope="col" className="num">Trade P&amp;L</th>
                  <th scope="col" className="num">P&amp;L / $</th>
                </tr>
              </thead>
              <tbody>
                {items.map((v) => (
                  <tr key={v.provider} data-testid="value-row">
                    <td>{v.provider}</td>
                    <td className="num">{formatMoney(v.cost_usd)}</td>
                    <td className="num">{v.scored}</td>
                    <td className="num">{formatNumber(v.brier_improvement, 3)}</td>
                    <td className="num">{perUsd(v.brier_improvement_per_usd, 3)}</td>
                    <td className="num">{formatSignedMoney(v.pnl_usd)}</td>
                    <td className="num" data-testid="value-pnl-per-usd">{perUsd(v.pnl_per_usd)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            {items[0] && <p className="muted small">over the last {items[0].window_days} days</p>}
          </div>
        )}
      </QueryState>
    </Panel>
  );
}
