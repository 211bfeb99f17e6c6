import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { POLL } from './queryKeys';
import type { ProviderValue, SpendReport } from './models';

/** `GET /api/v1/costs` → today's and this month's spend against every budget. */
export function useSpend() {
  return useQuery({
    queryKey: ['costs'] as const,
    queryFn: ({ signal }) => api.get<SpendReport>('/api/v1/costs', undefined, signal),
    refetchInterval: POLL.approvals,
  });
}

/** `GET /api/v1/costs/value` → per provider Brier improvement and trade P&L per dollar. */
export function useProviderValue() {
  return useQuery({
    queryKey: ['costs', 'value'] as const,
    queryFn: ({ signal }) => api.get<ProviderValue[]>('/api/v1/costs/value', undefined, signal),
  });
}
