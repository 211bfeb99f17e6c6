import { usePositions } from '../../api/portfolio';
import { formatMoney, formatNumber, formatSignedMoney, signClass } from '../../lib/format';
import { usePriceFormatter } from '../../lib/usePriceFormatter';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';

export function PositionsTable() {
  const positions = usePositions();
  const price = usePriceFormatter();
  return (
    <Panel title="Open positions" testId="positions-panel">
      <QueryState query={positions} isEmpty={(items) => items.length === 0} empty="No open positions.">
        {(items) => (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Instrument</th>
                  <th scope="col" className="num">Qty</th>
                  <th scope="col" className="num">Avg price</th>
                  <th scope="col" className="num">Market</th>
                  <th scope="col" className="num">Value</th>
                  <th scope="col" className="num">Unrealized</th>
                </tr>
              </thead>
              <tbody>
                {items.map((p) => (
                  <tr key={p.instrument} data-testid="position-row">
                    <td>{p.instrument}</td>
                    <td className="num">{formatNumber(p.quantity)}</td>
                    <td className="num">{price(p.instrument, p.average_price)}</td>
                    <td className="num">{price(p.instrument, p.market_price)}</td>
                    <td className="num">{formatMoney(p.market_value)}</td>
                    <td className={`num ${signClass(p.unrealized_pnl)}`}>{formatSignedMoney(p.unrealized_pnl)}</td>
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
