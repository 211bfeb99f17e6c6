import { useFills } from '../../api/portfolio';
import { formatDateTime, formatMoney, formatNumber } from '../../lib/format';
import { Panel } from '../common/Panel';
import { actionTone, Pill } from '../common/Pill';
import { QueryState } from '../common/States';

export function TradeList({ limit = 100 }: { limit?: number }) {
  const fills = useFills();
  return (
    <Panel title="Trades (fills)" className="span-2" testId="trades-panel">
      <QueryState query={fills} isEmpty={(items) => items.length === 0} empty="No trades yet.">
        {(items) => {
          const sorted = [...items].sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0)).slice(0, limit);
          return (
            <div className="table-wrap">
              <table className="table table-compact">
                <thead>
                  <tr>
                    <th scope="col">Time</th>
                    <th scope="col">Instrument</th>
                    <th scope="col">Side</th>
                    <th scope="col" className="num">Qty</th>
                    <th scope="col" className="num">Price</th>
                    <th scope="col" className="num">Commission</th>
                  </tr>
                </thead>
                <tbody>
                  {sorted.map((f) => (
                    <tr key={f.fill_id} data-testid="fill-row">
                      <td>{formatDateTime(f.ts)}</td>
                      <td>{f.instrument}</td>
                      <td><Pill tone={actionTone(f.side)}>{f.side}</Pill></td>
                      <td className="num">{formatNumber(f.quantity)}</td>
                      <td className="num">{formatMoney(f.price)}</td>
                      <td className="num">{formatMoney(f.commission)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        }}
      </QueryState>
    </Panel>
  );
}
