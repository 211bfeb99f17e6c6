import { errorMessage } from '../../api/client';
import { useApprovals, useApproveApproval, useRejectApproval } from '../../api/approvals';
import type { Approval } from '../../api/types';
import { formatDateTime } from '../../lib/format';
import { Panel } from '../common/Panel';
import { Pill } from '../common/Pill';
import { QueryState } from '../common/States';

export function ApprovalsPanel() {
  const pending = useApprovals('pending');
  const approve = useApproveApproval();
  const reject = useRejectApproval();
  const busyId = approve.isPending ? approve.variables?.id : reject.isPending ? reject.variables?.id : undefined;
  const mutationError = approve.error ?? reject.error;

  return (
    <Panel
      title="Pending approvals"
      testId="approvals-panel"
      actions={pending.data && <Pill tone={pending.data.length ? 'warn' : 'neutral'}>{pending.data.length}</Pill>}
    >
      {mutationError && (
        <p className="error-text" role="alert">
          {errorMessage(mutationError)}
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
                onApprove={() => approve.mutate({ id: a.id, by: 'dashboard' })}
                onReject={() => reject.mutate({ id: a.id, by: 'dashboard' })}
              />
            ))}
          </ul>
        )}
      </QueryState>
    </Panel>
  );
}

function ApprovalRow({ approval: a, busy, onApprove, onReject }: { approval: Approval; busy: boolean; onApprove: () => void; onReject: () => void }) {
  return (
    <li className="approval-row" data-testid="approval-row" data-approval-id={a.id}>
      <div className="approval-info">
        <div>
          <strong>{a.instrument}</strong> <span>{a.summary}</span>
        </div>
        <div className="muted small">
          created {formatDateTime(a.created_at)} · expires {formatDateTime(a.expires_at)}
        </div>
      </div>
      <div className="approval-actions">
        <button type="button" className="btn btn-primary btn-small" onClick={onApprove} disabled={busy}>
          Approve
        </button>
        <button type="button" className="btn btn-danger btn-small" onClick={onReject} disabled={busy}>
          Reject
        </button>
      </div>
    </li>
  );
}

/** Recently resolved approvals (approved / rejected / expired). */
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
                  <th scope="col">Status</th>
                  <th scope="col">By</th>
                  <th scope="col">When</th>
                </tr>
              </thead>
              <tbody>
                {items
                  .filter((a) => a.status !== 'pending')
                  .slice(0, limit)
                  .map((a) => (
                    <tr key={a.id}>
                      <td>{a.instrument}</td>
                      <td>{a.summary}</td>
                      <td>
                        <Pill tone={a.status === 'approved' ? 'good' : a.status === 'rejected' ? 'bad' : 'neutral'}>{a.status}</Pill>
                      </td>
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
