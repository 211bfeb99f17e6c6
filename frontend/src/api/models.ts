// The dashboard's names for the API's types. Every shape the OpenAPI document describes comes from
// `generated/openapi.ts` (regenerate with `npm run gen:api-types`; a test fails when it is stale).
// Only what the document leaves as a free-form object is written out here: `/health` and a
// backtest job's `result` (both plain dicts on the backend).
import type { components, operations, paths } from './generated/openapi';

type Schemas = components['schemas'];

/** The `{items: [...]}` envelope of every list route. */
export interface ItemsResponse<T> {
  items: T[];
}

/** Money, quantities and prices: the server sends every decimal as a string (so does the document). */
export type Decimal = string;
export type IsoDateTime = string;

export type Action = Schemas['Action'];
export type TradingMode = Schemas['StatusView']['mode'];

// ---- Portfolio ----
export type EquityPoint = Schemas['EquityPoint'];
/** `pnl_pct` is a percentage (2.5 = 2.5 %); `drawdown` is a positive fraction (0.05 = 5 %). */
export type PortfolioStatus = Schemas['StatusView'];
export type Position = Schemas['PositionView'];
export type Order = Schemas['Order'];
export type Fill = Schemas['Fill'];
/** One position's flatten: `held` is the signed position it set out to close. */
export type FlattenResult = Schemas['FlattenResult'];
export type FlattenList = ItemsResponse<FlattenResult>;

// ---- Decisions ----
export type Vote = Schemas['ProviderVote'];
export type RiskVerdict = Schemas['RiskAssessment'];
export type Decision = Schemas['Decision'];
export type DecisionPage = Schemas['DecisionPage'];
export type DecisionFilters = NonNullable<operations['ApiV1DecisionsListDecisions']['parameters']['query']>;
export type CreateDecisionRequest = Schemas['DecisionRequest'];

// ---- Agent ----
export type AgentState = Schemas['AgentState'];
/** `reason`/`at`/`tripped_by`: the trip in force; `reset_by`/`reset_at`: the last reset. */
export type KillSwitch = Schemas['KillSwitchState'];
export type AgentStatus = Schemas['AgentStatus'];
export type AgentCommand = 'start' | 'stop' | 'pause' | 'resume';
// Each command is a route of the API (this line fails to compile when one is not).
export type AgentCommandPath = `/api/bot/${AgentCommand}` & keyof paths;

// ---- Approvals ----
/**
 * `expired`: nobody answered in time, or it went stale before it could be sent;
 * `superseded`: a newer decision on the same instrument and side replaced it;
 * `failed`: approved, but the execution gate or the venue refused the order.
 */
export type ApprovalStatus = Schemas['ApprovalStatus'];
/** `size`: what the risk manager sized at decision time; `size_now`: what the gate would send now. */
export type Approval = Schemas['ApprovalView'];
/** The risk shown on an approval: exposure and VaR before → after, agreement, expected fill. */
export type ApprovalCard = Schemas['ApprovalCard'];

// ---- Costs ----
export type SpendLine = Schemas['SpendLine'];
export type SpendReport = Schemas['SpendReport'];
export type ProviderValue = Schemas['ProviderValue'];

// ---- Parity ----
/** A day's venue fills against the backtester's fill model (`score` 1 = exact). */
export type ParityReport = Schemas['ParityReport'];

// ---- Providers ----
export type ProviderCircuit = Schemas['CircuitView'];
export type ProviderStats = Schemas['ProviderView'];
export type WeightSnapshot = Schemas['WeightSnapshot'];
export type ProvidersResponse = Schemas['ProviderList'];

// ---- Backtests ----
export type ParamValue = number | string | boolean;
/** Parameter defaults (null: no default); the document leaves the values untyped. */
export type Strategy = Omit<Schemas['StrategyInfo'], 'params'> & { params: Record<string, ParamValue | null> };
export type Instrument = Schemas['InstrumentView'];
export type BacktestRequest = Schemas['BacktestRequest'];
export type BacktestKind = NonNullable<BacktestRequest['kind']>;
export type JobStatus = Schemas['BacktestJob']['status'];

// ---- Errors ----
export type ApiErrorBody = Schemas['ErrorBody'];

// ---- Free-form in the document ----
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

/** `GET /health` (documented as an object). */
export interface Health {
  status: 'ok' | 'degraded' | 'down';
  version: string;
  mode: TradingMode;
  components: Record<string, ComponentHealth>;
  circuit_breakers: CircuitBreakerInfo[];
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
  /** The statistic in each cell (the optimisation objective), when the backend names it. */
  metric?: string;
  x: ParamValue[];
  y: ParamValue[];
  z: (number | null)[][];
}

export interface WalkForwardWindow {
  params: Record<string, ParamValue>;
  in_sample_score: number | null;
  oos_return_pct: number | null;
}

/** A job's `result` (documented as an object). Trade `return_pct` is a percentage; drawdowns are fractions ≤ 0. */
export interface BacktestResult {
  stats: Record<string, unknown>;
  equity: { ts: IsoDateTime; equity: number | null }[];
  drawdown: { ts: IsoDateTime; drawdown: number | null }[];
  trades: BacktestTrade[];
  heatmap: Heatmap | null;
  best_params?: Record<string, ParamValue>;
  windows?: WalkForwardWindow[];
  pbo?: number | null;
  deflated_sharpe?: number | null;
  /** e.g. "0 trades: cash cannot buy one unit" (absent on results stored before it existed). */
  warnings?: string[];
  /** A portfolio run: each instrument's statistics (on its contribution to the one account). */
  instruments?: Record<string, Record<string, unknown>>;
  /** A portfolio run: how each instrument's trades ended (signal, stop_loss, take_profit, ...). */
  exits?: Record<string, Record<string, number>>;
  /** A portfolio run: the bar whose close tripped the kill switch (null: it never did). */
  kill_switch_bar?: number | null;
}

/** A portfolio run's result (several instruments on one account). */
export function isPortfolioResult(result: BacktestResult): result is BacktestResult & { instruments: Record<string, Record<string, unknown>> } {
  return Boolean(result.instruments && !Array.isArray(result.instruments));
}

/** One row of a replay's attribution table (returns and drawdowns in percent). */
export interface ReplayRunSummary {
  return_pct: number | null;
  sharpe: number | null;
  max_drawdown_pct: number | null;
  trades: number;
}

export interface ReplayVoteScores extends ReplayRunSummary {
  hit_rate: number | null;
  brier: number | null;
}

export interface ReplayProviderRow extends ReplayVoteScores {
  votes: number;
  abstentions: number;
  overruled: number;
  overruled_earned_pct: number;
}

/** Equity of each run at shared timestamps (from the first decision on). */
export interface ReplayCurves {
  ts: IsoDateTime[];
  ensemble: (number | null)[];
  providers: Record<string, (number | null)[]>;
  buy_and_hold: (number | null)[];
  quant_baseline: (number | null)[] | null;
}

export interface ReplayAttribution {
  horizon_bars: number;
  ensemble: ReplayVoteScores & { decisions: number };
  providers: Record<string, ReplayProviderRow>;
  buy_and_hold: ReplayRunSummary;
  quant_baseline: ReplayRunSummary | null;
  equity: ReplayCurves;
}

export interface ReplaySpend {
  calls: number;
  cached: number;
  cost_usd: number;
}

export interface ReplayLookahead {
  provider: string;
  model: string;
  cutoff: string | null;
  first_decision: IsoDateTime;
}

/** A replay job's `result`: the keys of `ffe replay --json` (statistics at the top level). */
export interface ReplayResult {
  trades: number;
  final_equity: number;
  decisions: Record<string, number>;
  attribution: Record<string, ReplayAttribution>;
  cost: ReplaySpend & { providers: Record<string, ReplaySpend>; estimate: ReplaySpend | null };
  contaminated: boolean;
  lookahead: ReplayLookahead[];
  providers: string[];
  aggregation: string;
  instruments: string[];
  /** Present when the job asked for `walk_forward`: the live gate's report it stored. */
  live_gate?: ReplayGateReport;
  [stat: string]: unknown;
}

/** The walk-forward report a replay stored for the live gate, judged as it was stored. */
export interface ReplayGateReport {
  created_at: IsoDateTime;
  instruments: string[];
  candidates: string[];
  contaminated: boolean;
  pbo: number | null;
  deflated_sharpe: number | null;
  oos_return_pct: number | null;
  max_drawdown_pct: number | null;
  out_of_sample_bars: number;
  passed: boolean;
  failures: string[];
}

export type BacktestJob = Omit<Schemas['BacktestJob'], 'result'> & { result: BacktestResult | ReplayResult | null };

/** `GET /api/v1/live-gate`: the gate before live trading and its stored walk-forward report. */
export type LiveGate = Schemas['LiveGateView'];

/** A finished job's result read as a replay's (its kind says which it is). */
export function isReplayResult(result: BacktestResult | ReplayResult | null | undefined): result is ReplayResult {
  return Boolean(result && 'attribution' in result);
}
