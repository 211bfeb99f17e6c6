import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { AgentCommand, AgentStatus } from './models';

/** `GET /api/bot/status`. */
export function useAgentStatus() {
  return useQuery({
    queryKey: queryKeys.agentStatus,
    queryFn: ({ signal }) => api.get<AgentStatus>('/api/bot/status', undefined, signal),
    refetchInterval: POLL.agent,
  });
}

/**
 * `POST /api/bot/{start|stop|pause|resume}`. Each command is its own mutation so the UI can show
 * which one is pending; all of them write the returned status into the status query.
 */
export function useAgentControl() {
  const qc = useQueryClient();
  const make = (command: AgentCommand) => ({
    mutationKey: ['agent', command],
    mutationFn: () => api.post<AgentStatus>(`/api/bot/${command}`),
    onSuccess: (status: AgentStatus) => {
      qc.setQueryData(queryKeys.agentStatus, status);
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.agentStatus });
    },
  });
  const start = useMutation(make('start'));
  const stop = useMutation(make('stop'));
  const pause = useMutation(make('pause'));
  const resume = useMutation(make('resume'));
  const all = [start, stop, pause, resume];
  return {
    start,
    stop,
    pause,
    resume,
    isPending: all.some((m) => m.isPending),
    error: all.find((m) => m.error)?.error ?? null,
  };
}

/**
 * `POST /api/bot/kill-switch/reset`: re-allows trading after the kill switch tripped (the server
 * records who and when; the agent stays stopped). Writes the returned status into the status query.
 */
export function useResetKillSwitch() {
  const qc = useQueryClient();
  return useMutation({
    mutationKey: ['agent', 'kill-switch', 'reset'],
    mutationFn: () => api.post<AgentStatus>('/api/bot/kill-switch/reset'),
    onSuccess: (status: AgentStatus) => {
      qc.setQueryData(queryKeys.agentStatus, status);
    },
    onSettled: () => {
      void qc.invalidateQueries({ queryKey: queryKeys.agentStatus });
    },
  });
}
