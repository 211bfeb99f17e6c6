import { useState } from 'react';
import { errorMessage } from '../../api/client';
import { useCancelOrder } from '../../api/desk';
import { isOpenOrder, useOrders } from '../../api/portfolio';
import type { Order } from '../../api/models';
import { formatDateTime, formatNumber } from '../../lib/format';
import { usePriceFormatter } from '../../lib/usePriceFormatter';
import { ConfirmDialog } from '../common/ConfirmDialog';
import { Panel } from '../common/Panel';
import { Pill } from '../common/Pill';
import { QueryState } from '../common/States';

/** Orders still working at the venue, each with a cancel behind a confirmation. */
export function OpenOrders() {
  const orders = useOrders();
  const price = usePriceFormatter();
  const cancel = useCancelOrder();
  const [confirming, setConfirming] = useState<Order | null>(null);
  const [outcome, setOutcome] = useState<string | null>(null);
  const confirm = (o: Order) => {
    setOutcome(null);
    cancel.mutate(o.client_order_id, {
      onSuccess: (after) => setOutcome(`Order ${after.client_order_id} on ${after.instrument}: ${after.status}`),
      onError: (e) => setOutcome(errorMessage(e)),
      onSettled: () => setConfirming(null),
    });
  };
  return (
    <Panel title="Open orders" testId="open-orders-panel">
      {outcome && (
        <p className="small" role="status" data-testid="cancel-outcome">
          {outcome}
        </p>
      )}
      <QueryState query={orders} isEmpty={(items) => !items.some(isOpenOrder)} empty="No open orders.">
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
                  <th scope="col"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {items
                  .filter(isOpenOrder)
                  .map((o) => (
                    <tr key={o.client_order_id} data-testid="open-order-row" data-order-id={o.client_order_id}>
                      <td>{o.instrument}</td>
                      <td>{o.side}</td>
                      <td className="num">{formatNumber(o.quantity, 8)}</td>
                      <td className="num">{formatNumber(o.filled_quantity, 8)}</td>
                      <td className="num">{o.limit_price ? price(o.instrument, o.limit_price) : o.type}</td>
                      <td><Pill tone="info">{o.status}</Pill></td>
                      <td>{formatDateTime(o.created_at)}</td>
                      <td>
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => setConfirming(o)}
                          disabled={cancel.isPending}
                          aria-label={`Cancel order ${o.client_order_id}`}
                        >
                          Cancel
                        </button>
                      </td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
      {confirming && (
        <ConfirmDialog
          title="Cancel this order?"
          testId="cancel-confirm"
          confirmLabel="Confirm cancel"
          busyLabel="Canceling…"
          busy={cancel.isPending}
          onConfirm={() => confirm(confirming)}
          onCancel={() => setConfirming(null)}
        >
          <p>
            {confirming.side} {formatNumber(confirming.quantity, 8)} {confirming.instrument} ({confirming.status}),
            order {confirming.client_order_id}
          </p>
          <p className="muted small">The cancel goes to the venue; what it answers is recorded in the ledger.</p>
        </ConfirmDialog>
      )}
    </Panel>
  );
}
