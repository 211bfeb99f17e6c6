import type { ApprovalStatus, DecisionFilters } from './models';

export const queryKeys = {
  health: ['health'] as const,
  portfolio: ['portfolio'] as const,
  positions: ['positions'] as const,
  orders: (filters: { status?: string; instrument?: string } = {}) => ['orders', filters] as const,
  fills: ['fills'] as const,
  decisions: (filters: DecisionFilters = {}) => ['decisions', filters] as const,
  decisionsAll: ['decisions'] as const,
  decision: (id: string) => ['decision', id] as const,
  agentStatus: ['agent', 'status'] as const,
  approvals: (status?: ApprovalStatus) => ['approvals', status ?? 'all'] as const,
  approvalsAll: ['approvals'] as const,
  providers: ['providers'] as const,
  strategies: ['strategies'] as const,
  instruments: ['instruments'] as const,
  backtests: ['backtests'] as const,
  backtestJob: (id: string) => ['backtests', id] as const,
  liveGate: ['live-gate'] as const,
};

/** Polling intervals (ms). */
export const POLL = {
  health: 10_000,
  agent: 3_000,
  portfolio: 5_000,
  decisions: 5_000,
  approvals: 4_000,
  providers: 15_000,
  job: 1_000,
} as const;
