import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { Approval, ApprovalStatus, ItemsResponse } from './types';

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
}

function useResolveApproval(verb: 'approve' | 'reject') {
  const qc = useQueryClient();
  return useMutation({
    mutationKey: ['approvals', verb],
    mutationFn: ({ id, by }: ResolveApprovalArgs) =>
      api.post<Approval>(`/api/v1/approvals/${encodeURIComponent(id)}/${verb}`, by ? { by } : {}),
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
