import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, errorMessage, isApiError, type ApiError } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { Approval, ApprovalStatus, ItemsResponse, ParityReport } from './models';

/** `GET /api/v1/approvals?status=` → the items. */
export function useApprovals(status?: ApprovalStatus) {
  return useQuery({
    queryKey: queryKeys.approvals(status),
    queryFn: ({ signal }) =>
      api.get<ItemsResponse<Approval>>('/api/v1/approvals', status ? { status } : undefined, signal),
    select: (d) => d.items,
    refetchInterval: POLL.approvals,
  });
}

export interface ResolveApprovalArgs {
  id: string;
  by?: string;
  /** Approve at this smaller size (at most the sized one); the execution gate caps the order. */
  size?: string;
}

/**
 * A 409 from approve / reject: the approval is not pending any more (decided by someone else a
 * moment earlier, expired, superseded, failed), or approving while the kill switch is tripped.
 * The server's message names the true state ("approval X is already rejected by alice").
 */
export function isApprovalConflict(e: unknown): e is ApiError {
  return isApiError(e) && e.status === 409;
}

/** What to show when approve / reject failed: the server's own words for a 409. */
export function resolveErrorMessage(e: unknown): string {
  return isApprovalConflict(e) && e.detail ? e.detail : errorMessage(e);
}

/**
 * What became of an approval just approved (the API answers with its state after the execution
 * gate): null when it went through, else why nothing was sent.
 */
export function notExecutedReason(a: Approval): string | null {
  if (a.status === 'failed') return `approved, but not executed: ${a.reason ?? 'the order was refused'}`;
  if (a.status === 'expired') return `expired before it could be sent: ${a.reason ?? 'it went stale'}`;
  return null;
}

function useResolveApproval(verb: 'approve' | 'reject') {
  const qc = useQueryClient();
  return useMutation({
    mutationKey: ['approvals', verb],
    mutationFn: ({ id, by, size }: ResolveApprovalArgs) =>
      api.post<Approval>(`/api/v1/approvals/${encodeURIComponent(id)}/${verb}`, {
        ...(by ? { by } : {}),
        ...(size && verb === 'approve' ? { size } : {}),
      }),
    // success or not (a 409 included), the list is refetched so it shows the true state
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.approvalsAll });
      void qc.invalidateQueries({ queryKey: queryKeys.decisionsAll });
      void qc.invalidateQueries({ queryKey: queryKeys.positions });
      void qc.invalidateQueries({ queryKey: queryKeys.portfolio });
    },
  });
}

/** `POST /api/v1/approvals/{id}/approve`. */
export function useApproveApproval() {
  return useResolveApproval('approve');
}

/** `POST /api/v1/approvals/{id}/reject`. */
export function useRejectApproval() {
  return useResolveApproval('reject');
}

/** `GET /api/v1/parity` → today's live / backtest parity. */
export function useParity() {
  return useQuery({
    queryKey: ['parity'] as const,
    queryFn: ({ signal }) => api.get<ParityReport>('/api/v1/parity', undefined, signal),
    refetchInterval: POLL.approvals,
  });
}
