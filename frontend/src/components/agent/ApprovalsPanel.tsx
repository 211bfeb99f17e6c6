import { useState } from 'react';
import { Link } from 'react-router';
import {
  notExecutedReason,
  resolveErrorMessage,
  useApprovals,
  useApproveApproval,
  useRejectApproval,
} from '../../api/approvals';
import type { Approval, ApprovalStatus } from '../../api/models';
import { formatCountdown, formatDateTime, formatMoney, formatNumber } from '../../lib/format';
import { useNow } from '../../lib/useNow';
import { usePriceFormatter } from '../../lib/usePriceFormatter';
import { Panel } from '../common/Panel';
import { Pill, type Tone } from '../common/Pill';
import { QueryState } from '../common/States';

const STATUS_TONES: Record<ApprovalStatus, Tone> = {
  pending: 'warn',
  approved: 'good',
  rejected: 'bad',
  expired: 'neutral',
  superseded: 'info',
  failed: 'bad',
};

function approvalStatusTone(status: ApprovalStatus | string): Tone {
  return STATUS_TONES[status as ApprovalStatus] ?? 'neutral';
}

/** What the last approve / reject came to, when it is worth saying: a refusal or no order sent. */
interface Outcome {
  id: string;
  text: string;
}

export function ApprovalsPanel({ className }: { className?: string } = {}) {
  const pending = useApprovals('pending');
  const approve = useApproveApproval();
  const reject = useRejectApproval();
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const busyId = approve.isPending ? approve.variables?.id : reject.isPending ? reject.variables?.id : undefined;

  const resolve = (a: Approval, yes: boolean, size?: string) => {
    setOutcome(null);
    (yes ? approve : reject).mutate(
      { id: a.id, by: 'dashboard', size },
      {
        onSuccess: (after) => {
          const why = notExecutedReason(after);
          if (why) setOutcome({ id: a.id, text: `${a.instrument}: ${why}` });
        },
        // a 409 carries the true state ("already rejected by …"); the list is refetched
        onError: (e) => setOutcome({ id: a.id, text: resolveErrorMessage(e) }),
      },
    );
  };

  return (
    <Panel
      title="Pending approvals"
      testId="approvals-panel"
      className={className}
      actions={pending.data && <Pill tone={pending.data.length ? 'warn' : 'neutral'}>{pending.data.length}</Pill>}
    >
      {outcome && (
        <p className="error-text" role="alert" data-testid="approval-outcome" data-approval-id={outcome.id}>
          {outcome.text}
        </p>
      )}
      <QueryState query={pending} isEmpty={(items) => items.length === 0} empty="No decisions waiting for approval.">
        {(items) => (
          <ul className="approval-list">
            {items.map((a) => (
              <ApprovalRow
                key={a.id}
                approval={a}
                busy={busyId === a.id}
                onApprove={(size) => resolve(a, true, size)}
                onReject={() => resolve(a, false)}
              />
            ))}
          </ul>
        )}
      </QueryState>
    </Panel>
  );
}

/**
 * `size 0.05 · now 0.04 · notional $2,250.00 @ $45,000.00`: what approving commits to. `size` is
 * the cap sized at decision time; `size_now` what the execution gate would send now (it can only
 * be smaller).
 */
function Figures({ approval: a }: { approval: Approval }) {
  const price = usePriceFormatter();
  if (a.size == null && a.notional == null) return null;
  const sizeNow = a.size_now != null && a.size_now !== a.size;
  return (
    <div className="small" data-testid="approval-figures">
      {a.size != null && <>size <strong>{formatNumber(a.size, 8)}</strong></>}
      {a.size_now != null && (
        <span data-testid="approval-size-now" className={sizeNow ? 'warn-text' : undefined}>
          {' · '}gate would send <strong>{formatNumber(a.size_now, 8)}</strong>
        </span>
      )}
      {a.notional != null && <>{' · '}notional <strong data-testid="approval-notional">{formatMoney(a.notional)}</strong></>}
      {a.reference_price != null && <span className="muted"> @ {price(a.instrument, a.reference_price)}</span>}
    </div>
  );
}

/** Exposure and VaR before → after, how many providers agree and their Brier, expected fill. */
function RiskCard({ approval: a }: { approval: Approval }) {
  const price = usePriceFormatter();
  const c = a.card;
  if (!c) return null;
  const briers = Object.entries(c.brier)
    .map(([p, b]) => `${p} ${b == null ? 'n/a' : b.toFixed(3)}`)
    .join(', ');
  return (
    <div className="small" data-testid="approval-card">
      <div>
        exposure {formatMoney(c.exposure_before)} → <strong data-testid="approval-exposure-after">{formatMoney(c.exposure_after)}</strong>
        {' · '}VaR 95% {c.var_before != null ? formatMoney(c.var_before) : 'n/a'} →{' '}
        <strong data-testid="approval-var-after">{c.var_after != null ? formatMoney(c.var_after) : 'n/a'}</strong>
      </div>
      <div>
        <span data-testid="approval-agreement">
          {c.agreeing}/{c.voters} providers agree
        </span>
        {briers && <span className="muted"> · Brier (last {c.brier_window}): {briers}</span>}
      </div>
      {c.expected_price != null && (
        <div>
          expected fill {price(a.instrument, c.expected_price)} · cost {c.expected_cost != null ? formatMoney(c.expected_cost) : 'n/a'}
        </div>
      )}
    </div>
  );
}

function ApprovalRow({ approval: a, busy, onApprove, onReject }: { approval: Approval; busy: boolean; onApprove: (size?: string) => void; onReject: () => void }) {
  const now = useNow();
  const [size, setSize] = useState('');
  const cap = a.size != null ? Number(a.size) : null;
  const chosen = size === '' ? null : Number(size);
  const sizeInvalid = chosen != null && (!(chosen > 0) || (cap != null && chosen > cap));
  return (
    <li className="approval-row" data-testid="approval-row" data-approval-id={a.id}>
      <div className="approval-info">
        <div>
          <strong>{a.instrument}</strong> <span>{a.summary}</span>
        </div>
        <Figures approval={a} />
        <RiskCard approval={a} />
        <div className="muted small">
          created {formatDateTime(a.created_at)} ·{' '}
          <span data-testid="approval-countdown" title={`expires ${formatDateTime(a.expires_at)}`}>
            {formatCountdown(a.expires_at, now)}
          </span>{' '}
          {a.on_expiry === 'approve' ? '(then approved) ' : '(then denied) '}
          · <Link to={`/decisions/${encodeURIComponent(a.decision_id)}`} data-testid="approval-decision-link">decision</Link>
        </div>
      </div>
      <div className="approval-actions">
        {cap != null && (
          <input
            type="number"
            className="input input-small"
            aria-label="size to approve"
            data-testid="approval-size-input"
            placeholder={formatNumber(a.size, 8)}
            min={0}
            max={cap}
            step="any"
            value={size}
            onChange={(e) => setSize(e.target.value)}
          />
        )}
        <button
          type="button"
          className="btn btn-primary btn-small"
          onClick={() => onApprove(size === '' ? undefined : size)}
          disabled={busy || sizeInvalid}
          title={sizeInvalid ? `a size above 0 and at most ${a.size}` : undefined}
        >
          {size === '' ? 'Approve' : 'Approve size'}
        </button>
        <button type="button" className="btn btn-danger btn-small" onClick={onReject} disabled={busy}>
          Reject
        </button>
      </div>
    </li>
  );
}

/** Recently resolved approvals (approved / rejected / expired / superseded / failed), with why. */
export function ApprovalHistory({ limit = 10 }: { limit?: number }) {
  const all = useApprovals();
  return (
    <Panel title="Approval history" testId="approval-history">
      <QueryState
        query={all}
        isEmpty={(items) => items.every((a) => a.status === 'pending')}
        empty="No resolved approvals yet."
      >
        {(items) => (
          <div className="table-wrap">
            <table className="table table-compact">
              <thead>
                <tr>
                  <th scope="col">Instrument</th>
                  <th scope="col">Summary</th>
                  <th scope="col" className="num">
                    Notional
                  </th>
                  <th scope="col">Status</th>
                  <th scope="col">Reason</th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {items
                  .filter((a) => a.status !== 'pending')
                  .slice(0, limit)
                  .map((a) => (
                    <tr key={a.id} data-testid="approval-history-row" data-approval-id={a.id} data-status={a.status}>
                      <td>{a.instrument}</td>
                      <td>{a.summary}</td>
                      <td className="num">{a.notional != null ? formatMoney(a.notional) : '—'}</td>
                      <td>
                        <Pill tone={approvalStatusTone(a.status)} title={a.reason ?? undefined}>
                          {a.status}
                        </Pill>
                      </td>
                      <td>{a.reason ?? '—'}</td>
                      <td>{a.decided_by ?? '—'}</td>
                      <td>{formatDateTime(a.decided_at ?? a.created_at)}</td>
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
