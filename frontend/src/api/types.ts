// Types mirroring docs/api.md (the contract between the backend and the dashboard).
// Decimals (money, quantities, prices) arrive as strings; timestamps are ISO-8601 UTC strings.

export type Decimal = string;
export type IsoDateTime = string;

export type TradingMode = 'paper' | 'live';
export type Action = 'BUY' | 'SELL' | 'HOLD';

// ---- Health ----
export interface ComponentHealth {
  status: 'ok' | 'down' | string;
  detail: string | null;
}

export type CircuitState = 'closed' | 'half_open' | 'open';

export interface CircuitBreakerInfo {
  name: string;
  state: CircuitState;
  failures: number;
  last_error: string | null;
}

export interface Health {
  status: 'ok' | 'degraded' | 'down';
  version: string;
  mode: TradingMode;
  components: Record<string, ComponentHealth>;
  circuit_breakers: CircuitBreakerInfo[];
}

// ---- Portfolio ----
export interface EquityPoint {
  ts: IsoDateTime;
  equity: number;
}

/** Note: `pnl_pct` is a percentage (2.5 = 2.5 %); `drawdown` is a positive fraction (0.05 = 5 %). */
export interface PortfolioStatus {
  mode: TradingMode;
  broker: string;
  currency: string;
  cash: Decimal;
  equity: Decimal;
  initial_cash: Decimal;
  pnl: Decimal;
  pnl_pct: number;
  realized_pnl: Decimal;
  unrealized_pnl: Decimal;
  gross_exposure: Decimal;
  drawdown: number;
  equity_curve: EquityPoint[];
}

export interface Position {
  instrument: string;
  quantity: Decimal;
  average_price: Decimal;
  market_price: Decimal;
  market_value: Decimal;
  unrealized_pnl: Decimal;
  realized_pnl: Decimal;
}

export interface Order {
  client_order_id: string;
  instrument: string;
  side: 'BUY' | 'SELL';
  type: string;
  quantity: Decimal;
  status: string;
  filled_quantity: Decimal;
  average_fill_price: Decimal | null;
  limit_price?: Decimal | null;
  stop_price?: Decimal | null;
  decision_id?: string | null;
  reject_reason?: string | null;
  created_at: IsoDateTime;
  updated_at?: IsoDateTime;
}

export interface Fill {
  fill_id: string;
  client_order_id: string;
  instrument: string;
  side: 'BUY' | 'SELL';
  quantity: Decimal;
  price: Decimal;
  commission: Decimal;
  ts: IsoDateTime;
}

export interface ItemsResponse<T> {
  items: T[];
}

// ---- Decisions ----
export interface Vote {
  provider: string;
  model: string | null;
  action: Action;
  confidence: number;
  reasoning: string;
  stop_loss?: Decimal | null;
  take_profit?: Decimal | null;
  abstained: boolean;
  abstain_reason: string | null;
  latency_ms: number;
  tokens_in: number;
  tokens_out: number;
  cost_usd: number;
}

export interface RiskVerdict {
  approved: boolean;
  reason: string;
  size: Decimal | null;
  notional?: Decimal | null;
  checks?: Record<string, string>;
}

export interface Decision {
  id: string;
  instrument: string;
  action: Action;
  confidence: number;
  suggested_size: Decimal | null;
  reference_price: Decimal | null;
  stop_loss: Decimal | null;
  take_profit: Decimal | null;
  reasoning: string;
  votes: Vote[];
  weights: Record<string, number>;
  aggregation: string;
  timings_ms: Record<string, number>;
  created_at: IsoDateTime;
  risk: RiskVerdict | null;
}

export interface DecisionPage {
  items: Decision[];
  next_cursor: string | null;
}

export interface DecisionFilters {
  instrument?: string;
  action?: Action;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

export interface CreateDecisionRequest {
  instrument: string;
  providers?: string[];
}

// ---- Agent ----
export type AgentState = 'stopped' | 'running' | 'paused';

/** `reason`/`at`/`tripped_by`: the trip in force; `reset_by`/`reset_at`: the last reset. */
export interface KillSwitch {
  tripped: boolean;
  reason: string | null;
  at: IsoDateTime | null;
  tripped_by?: string | null;
  reset_by?: string | null;
  reset_at?: IsoDateTime | null;
}

export interface AgentStatus {
  state: AgentState;
  run_id: string | null;
  started_at: IsoDateTime | null;
  uptime_seconds: number;
  cycles: number;
  current_phase: string | null;
  current_instrument: string | null;
  instruments: string[];
  interval_seconds: number;
  kill_switch: KillSwitch;
  last_error: string | null;
}

export type AgentCommand = 'start' | 'stop' | 'pause' | 'resume';

// ---- Approvals ----
/**
 * `expired`: nobody answered in time, or it went stale before it could be sent;
 * `superseded`: a newer decision on the same instrument and side replaced it;
 * `failed`: approved, but the execution gate or the venue refused the order.
 */
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired' | 'superseded' | 'failed';

export interface Approval {
  id: string;
  decision_id: string;
  instrument: string;
  summary: string;
  status: ApprovalStatus;
  created_at: IsoDateTime;
  expires_at: IsoDateTime;
  decided_by: string | null;
  decided_at: IsoDateTime | null;
  channel_ref?: string | null;
  /** BUY or SELL. */
  action: Exclude<Action, 'HOLD'> | null;
  /** What the risk manager sized at decision time: the cap the order is held to. */
  size: Decimal | null;
  reference_price: Decimal | null;
  /** size × reference price. */
  notional: Decimal | null;
  /** Why it expired, was superseded or failed. */
  reason: string | null;
}

// ---- Providers ----
export interface ProviderCircuit {
  state: CircuitState | string;
  failures: number;
  last_error: string | null;
}

export interface ProviderStats {
  provider: string;
  weight: number;
  votes: number;
  scored: number;
  hit_rate: number | null;
  brier: number | null;
  pnl: number;
  last_reason: string;
  /** Present in the implementation (not in docs/api.md): false when disabled in config. */
  enabled?: boolean;
  circuit: ProviderCircuit | null;
}

export interface WeightSnapshot {
  ts: IsoDateTime;
  weights: Record<string, number>;
}

export interface ProvidersResponse {
  items: ProviderStats[];
  weight_history: WeightSnapshot[];
}

// ---- Backtests ----
export type ParamValue = number | string | boolean;

export interface Strategy {
  name: string;
  /** Parameter defaults; a default may be null (no default value). */
  params: Record<string, ParamValue | null>;
}

export interface Instrument {
  symbol: string;
  asset_class: string;
  base: string;
  quote: string;
}

export type BacktestKind = 'backtest' | 'walk_forward' | 'optimize';
export type JobStatus = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface BacktestRequest {
  kind: BacktestKind;
  instrument: string;
  strategy: string;
  params?: Record<string, ParamValue>;
  grid?: Record<string, ParamValue[]>;
  cash?: number;
  commission?: number;
  bars?: number;
}

export interface BacktestTrade {
  entry_time: IsoDateTime | null;
  exit_time: IsoDateTime | null;
  size: number | string;
  entry_price: number | string;
  exit_price: number | string | null;
  pnl: number | string;
  return_pct: number | string;
}

export interface Heatmap {
  x_param: string;
  y_param: string;
  x: ParamValue[];
  y: ParamValue[];
  z: (number | null)[][];
}

export interface WalkForwardWindow {
  params: Record<string, ParamValue>;
  in_sample_score: number | null;
  oos_return_pct: number | null;
}

/** Backtest trade `return_pct` is a percentage (5 = 5 %); `drawdown` points are fractions ≤ 0. */
export interface BacktestResult {
  stats: Record<string, unknown>;
  equity: { ts: IsoDateTime; equity: number | null }[];
  drawdown: { ts: IsoDateTime; drawdown: number | null }[];
  trades: BacktestTrade[];
  heatmap: Heatmap | null;
  /** optimize: the winning parameters. */
  best_params?: Record<string, ParamValue>;
  /** walk_forward extras. */
  windows?: WalkForwardWindow[];
  pbo?: number | null;
  deflated_sharpe?: number | null;
  /** e.g. "0 trades: cash cannot buy one unit" (absent on results stored before it existed). */
  warnings?: string[];
}

export interface BacktestJob {
  id: string;
  kind: BacktestKind;
  status: JobStatus;
  progress: number;
  error: string | null;
  request: Partial<BacktestRequest> & Record<string, unknown>;
  result: BacktestResult | null;
  created_at?: IsoDateTime;
}

// ---- Errors ----
export interface ApiErrorBody {
  status_code: number;
  detail: string;
  extra?: unknown;
}
