import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { Health } from './types';

/** `GET /health`: overall status, mode (paper/live) and circuit breakers. Polled. */
export function useHealth() {
  return useQuery({
    queryKey: queryKeys.health,
    queryFn: ({ signal }) => api.get<Health>('/health', undefined, signal),
    refetchInterval: POLL.health,
    retry: false,
  });
}
