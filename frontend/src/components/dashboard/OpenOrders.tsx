import { useOrders } from '../../api/portfolio';
import type { Order } from '../../api/models';
import { formatDateTime, formatNumber } from '../../lib/format';
import { usePriceFormatter } from '../../lib/usePriceFormatter';
import { Panel } from '../common/Panel';
import { Pill } from '../common/Pill';
import { QueryState } from '../common/States';

const OPEN: ReadonlySet<Order['status']> = new Set(['new', 'submitted', 'accepted', 'partially_filled']);

/** Orders still working at the venue (the API has no cancel route yet, so none is offered). */
export function OpenOrders() {
  const orders = useOrders();
  const price = usePriceFormatter();
  return (
    <Panel title="Open orders" testId="open-orders-panel">
      <QueryState query={orders} isEmpty={(items) => !items.some((o) => OPEN.has(o.status))} empty="No open orders.">
        {(items) => (
          <div className="table-wrap">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">Instrument</th>
                  <th scope="col">Side</th>
                  <th scope="col" className="num">Qty</th>
                  <th scope="col" className="num">Filled</th>
                  <th scope="col" className="num">Limit</th>
                  <th scope="col">Status</th>
                  <th scope="col">Placed</th>
                </tr>
              </thead>
              <tbody>
                {items
                  .filter((o) => OPEN.has(o.status))
                  .map((o) => (
                    <tr key={o.client_order_id} data-testid="open-order-row" data-order-id={o.client_order_id}>
                      <td>{o.instrument}</td>
                      <td>{o.side}</td>
                      <td className="num">{formatNumber(o.quantity, 8)}</td>
                      <td className="num">{formatNumber(o.filled_quantity, 8)}</td>
                      <td className="num">{o.limit_price ? price(o.instrument, o.limit_price) : o.type}</td>
                      <td><Pill tone="info">{o.status}</Pill></td>
                      <td>{formatDateTime(o.created_at)}</td>
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
