import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { CreateDecisionRequest, Decision, DecisionFilters, DecisionPage } from './models';

/** `GET /api/v1/decisions` (newest first). Returns the page: `{items, next_cursor}`. */
export function useDecisions(filters: DecisionFilters = {}) {
  const query = { limit: 50, ...filters };
  return useQuery({
    queryKey: queryKeys.decisions(query),
    queryFn: ({ signal }) => api.get<DecisionPage>('/api/v1/decisions', { ...query }, signal),
    refetchInterval: POLL.decisions,
  });
}

/** `GET /api/v1/decisions/{id}`. */
export function useDecision(id: string | null | undefined) {
  return useQuery({
    queryKey: queryKeys.decision(id ?? ''),
    queryFn: ({ signal }) => api.get<Decision>(`/api/v1/decisions/${encodeURIComponent(id ?? '')}`, undefined, signal),
    enabled: Boolean(id),
  });
}

/** `POST /api/v1/decisions`: ask the ensemble for a decision now. */
export function useCreateDecision() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: CreateDecisionRequest) => api.post<Decision>('/api/v1/decisions', body),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.decisionsAll });
      void qc.invalidateQueries({ queryKey: queryKeys.approvalsAll });
    },
  });
}
