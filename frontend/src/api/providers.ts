import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { ProvidersResponse } from './models';

/** `GET /api/v1/providers`: per-provider stats plus the weight history. */
export function useProviders() {
  return useQuery({
    queryKey: queryKeys.providers,
    queryFn: ({ signal }) => api.get<ProvidersResponse>('/api/v1/providers', undefined, signal),
    refetchInterval: POLL.providers,
  });
}
