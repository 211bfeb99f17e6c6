import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, apiFetch } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { BacktestJob, BacktestRequest, Instrument, ItemsResponse, LiveGate, Strategy } from './models';

/** `GET /api/v1/strategies` → the items. */
export function useStrategies() {
  return useQuery({
    queryKey: queryKeys.strategies,
    queryFn: ({ signal }) => api.get<ItemsResponse<Strategy>>('/api/v1/strategies', undefined, signal),
    select: (d) => d.items,
    staleTime: 5 * 60_000,
  });
}

/** `GET /api/v1/instruments` → the items. */
export function useInstruments() {
  return useQuery({
    queryKey: queryKeys.instruments,
    queryFn: ({ signal }) => api.get<ItemsResponse<Instrument>>('/api/v1/instruments', undefined, signal),
    select: (d) => d.items,
    staleTime: 5 * 60_000,
  });
}

/** `GET /api/v1/backtests` → the items. */
export function useBacktests() {
  return useQuery({
    queryKey: queryKeys.backtests,
    queryFn: ({ signal }) => api.get<ItemsResponse<BacktestJob>>('/api/v1/backtests', undefined, signal),
    select: (d) => d.items,
    refetchInterval: 10_000,
  });
}

export function isJobActive(job: BacktestJob | undefined): boolean {
  return job?.status === 'queued' || job?.status === 'running';
}

/** `GET /api/v1/backtests/{id}`, polled every second while the job is queued or running. */
export function useBacktestJob(id: string | null | undefined, pollMs: number = POLL.job) {
  const qc = useQueryClient();
  return useQuery({
    queryKey: queryKeys.backtestJob(id ?? ''),
    queryFn: async ({ signal }) => {
      const job = await api.get<BacktestJob>(`/api/v1/backtests/${encodeURIComponent(id ?? '')}`, undefined, signal);
      // Keep the (slowly polled) jobs list in step with the job being watched, so that it does not
      // still say "running" next to a finished result.
      qc.setQueryData<ItemsResponse<BacktestJob>>(queryKeys.backtests, (list) =>
        list && list.items.some((j) => j.id === job.id && j.status !== job.status)
          ? { ...list, items: list.items.map((j) => (j.id === job.id ? { ...j, status: job.status, progress: job.progress } : j)) }
          : list,
      );
      // A walk-forward replay stored a new live gate report: the gate panel reads it again.
      if (job.status === 'done' && job.kind === 'replay' && job.request?.walk_forward) void qc.invalidateQueries({ queryKey: queryKeys.liveGate, exact: true });
      return job;
    },
    enabled: Boolean(id),
    refetchInterval: (query) => {
      if (query.state.status === 'error') return pollMs * 5;
      return !query.state.data || isJobActive(query.state.data) ? pollMs : false;
    },
  });
}

/** `POST /api/v1/backtests` → 202 with the queued job. */
export function useSubmitBacktest() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: BacktestRequest) => api.post<BacktestJob>('/api/v1/backtests', body),
    onSuccess: (job) => {
      if (job?.id) qc.setQueryData(queryKeys.backtestJob(job.id), job);
      void qc.invalidateQueries({ queryKey: queryKeys.backtests, exact: true });
    },
  });
}

/** `DELETE /api/v1/backtests/{id}`: a queued job never starts, a running one is stopped (409 when
 * it has already finished). Either way the job and the list are refetched to show the true state. */
export function useCancelBacktest() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => apiFetch<BacktestJob>(`/api/v1/backtests/${encodeURIComponent(id)}`, { method: 'DELETE' }),
    onSuccess: (job) => {
      if (job?.id) qc.setQueryData(queryKeys.backtestJob(job.id), job);
    },
    onSettled: (_job, _error, id) => {
      void qc.invalidateQueries({ queryKey: queryKeys.backtestJob(id), exact: true });
      void qc.invalidateQueries({ queryKey: queryKeys.backtests, exact: true });
    },
  });
}

/** `GET /api/v1/live-gate`: whether live trading may start, and the report it rests on. */
export function useLiveGate() {
  return useQuery({
    queryKey: queryKeys.liveGate,
    queryFn: ({ signal }) => api.get<LiveGate>('/api/v1/live-gate', undefined, signal),
    staleTime: 60_000,
  });
}
