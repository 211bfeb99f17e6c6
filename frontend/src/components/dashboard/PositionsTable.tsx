import { useState } from 'react';
import { errorMessage } from '../../api/client';
import { useFlattenAll, useFlattenPosition } from '../../api/desk';
import type { FlattenResult, Position } from '../../api/models';
import { usePositions } from '../../api/portfolio';
import { formatMoney, formatNumber, formatSignedMoney, signClass } from '../../lib/format';
import { usePriceFormatter } from '../../lib/usePriceFormatter';
import { ConfirmDialog } from '../common/ConfirmDialog';
import { Panel } from '../common/Panel';
import { QueryState } from '../common/States';

/** What to confirm: one position, or every one. */
type Target = { kind: 'one'; position: Position } | { kind: 'all'; positions: Position[] };

function resultLine(r: FlattenResult): string {
  return r.sent ? `${r.instrument}: flatten order ${r.order?.status ?? 'sent'}` : `${r.instrument}: not sent — ${r.refused}`;
}

/** Open positions, each with a flatten, and a flatten-all; both behind a confirmation. */
export function PositionsTable() {
  const positions = usePositions();
  const price = usePriceFormatter();
  const one = useFlattenPosition();
  const all = useFlattenAll();
  const busy = one.isPending || all.isPending;
  const [target, setTarget] = useState<Target | null>(null);
  const [outcome, setOutcome] = useState<string[]>([]);
  const confirm = (t: Target) => {
    setOutcome([]);
    const done = { onSettled: () => setTarget(null), onError: (e: Error) => setOutcome([errorMessage(e)]) };
    if (t.kind === 'one') {
      one.mutate(t.position.instrument, { ...done, onSuccess: (r) => setOutcome([resultLine(r)]) });
    } else {
      all.mutate(undefined, {
        ...done,
        onSuccess: (r) => setOutcome(r.items.length ? r.items.map(resultLine) : ['No open positions.']),
      });
    }
  };
  const held = positions.data ?? [];
  return (
    <Panel
      title="Open positions"
      testId="positions-panel"
      actions={
        held.length > 0 && (
          <button
            type="button"
            className="btn btn-small btn-danger"
            onClick={() => setTarget({ kind: 'all', positions: held })}
            disabled={busy}
          >
            Flatten all
          </button>
        )
      }
    >
      {outcome.length > 0 && (
        <ul className="small plain-list" role="status" data-testid="flatten-outcome">
          {outcome.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      )}
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
                  <th scope="col"><span className="sr-only">Actions</span></th>
                </tr>
              </thead>
              <tbody>
                {items.map((p) => (
                  <tr key={p.instrument} data-testid="position-row" data-instrument={p.instrument}>
                    <td>{p.instrument}</td>
                    <td className="num">{formatNumber(p.quantity)}</td>
                    <td className="num">{price(p.instrument, p.average_price)}</td>
                    <td className="num">{price(p.instrument, p.market_price)}</td>
                    <td className="num">{formatMoney(p.market_value)}</td>
                    <td className={`num ${signClass(p.unrealized_pnl)}`}>{formatSignedMoney(p.unrealized_pnl)}</td>
                    <td>
                      <button
                        type="button"
                        className="btn btn-small"
                        onClick={() => setTarget({ kind: 'one', position: p })}
                        disabled={busy}
                        aria-label={`Flatten ${p.instrument}`}
                      >
                        Flatten
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryState>
      {target && (
        <ConfirmDialog
          title={target.kind === 'one' ? `Flatten ${target.position.instrument}?` : 'Flatten every position?'}
          testId="flatten-confirm"
          confirmLabel={target.kind === 'one' ? 'Confirm flatten' : 'Confirm flatten all'}
          busyLabel="Sending…"
          busy={busy}
          onConfirm={() => confirm(target)}
          onCancel={() => setTarget(null)}
        >
          <ul className="plain-list">
            {(target.kind === 'one' ? [target.position] : target.positions).map((p) => (
              <li key={p.instrument}>
                {Number(p.quantity) > 0 ? 'Sell' : 'Buy'} {formatNumber(Math.abs(Number(p.quantity)))} {p.instrument} at
                market (≈ {formatMoney(Math.abs(Number(p.market_value)))})
              </li>
            ))}
          </ul>
          <p className="muted small">
            Each order goes through the execution gate (limits, the kill switch lets exits through) and is recorded
            with your name.
          </p>
        </ConfirmDialog>
      )}
    </Panel>
  );
}
