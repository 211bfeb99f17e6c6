import { useQuery } from '@tanstack/react-query';
import { api, isApiError } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { Health } from './models';

function looksLikeHealth(body: unknown): body is Health {
  return typeof body === 'object' && body !== null && 'status' in body && 'components' in body;
}

/** `GET /health`: overall status, mode (paper/live) and circuit breakers. Polled. */
export function useHealth() {
  return useQuery({
    queryKey: queryKeys.health,
    queryFn: async ({ signal }) => {
      try {
        return await api.get<Health>('/health', undefined, signal);
      } catch (e) {
        // A "down" health report may come with a 503; it is still a report, not an outage.
        if (isApiError(e) && e.status === 503 && looksLikeHealth(e.body)) return e.body;
        throw e;
      }
    },
    refetchInterval: POLL.health,
    retry: false,
  });
}
