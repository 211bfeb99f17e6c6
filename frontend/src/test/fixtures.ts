import type {
  AgentStatus,
  Approval,
  ParityReport,
  ProviderValue,
  SpendReport,
  BacktestJob,
  Decision,
  Fill,
  Health,
  Instrument,
  LiveGate,
  PortfolioStatus,
  Position,
  ProvidersResponse,
  Strategy,
  ReplayResult,
} from '../api/models';

export const health: Health = {
  status: 'ok',
  version: '0.1.0',
  mode: 'paper',
  components: {
    storage: { status: 'ok', detail: null },
    broker: { status: 'ok', detail: null },
    market_data: { status: 'ok', detail: null },
  },
  circuit_breakers: [
    { name: 'market_data', state: 'closed', failures: 0, last_error: null },
    { name: 'llm:openai', state: 'open', failures: 5, last_error: 'timeout' },
  ],
};

export const portfolio: PortfolioStatus = {
  mode: 'paper',
  broker: 'paper',
  currency: 'USD',
  cash: '8000.00',
  equity: '10250.50',
  initial_cash: '10000',
  pnl: '250.50',
  pnl_pct: 2.51,
  realized_pnl: '100.00',
  unrealized_pnl: '150.50',
  gross_exposure: '2250.50',
  drawdown: 0.012,
  equity_curve: [
    { ts: '2026-01-01T00:00:00Z', equity: 10000, drawdown: 0 },
    { ts: '2026-01-01T01:00:00Z', equity: 10100, drawdown: 0 },
    { ts: '2026-01-01T02:00:00Z', equity: 10050, drawdown: 0.00495 },
    { ts: '2026-01-01T03:00:00Z', equity: 10250.5, drawdown: 0 },
  ],
};

export const positions: Position[] = [
  {
    instrument: 'BTC-USD',
    quantity: '0.05',
    average_price: '42000',
    market_price: '45010',
    market_value: '2250.50',
    unrealized_pnl: '150.50',
    realized_pnl: '0',
  },
];

export const decision: Decision = {
  id: 'dec-1',
  instrument: 'BTC-USD',
  action: 'BUY',
  confidence: 0.72,
  suggested_size: '0.05',
  reference_price: '45000',
  stop_loss: '43000',
  take_profit: '49000',
  reasoning: 'Trend and momentum agree.',
  votes: [
    {
      provider: 'trend',
      model: null,
      action: 'BUY',
      confidence: 0.8,
      reasoning: 'SMA20 above SMA50',
      stop_loss: null,
      take_profit: null,
      abstained: false,
      abstain_reason: null,
      latency_ms: 3.2,
      tokens_in: 0,
      tokens_out: 0,
      cost_usd: 0,
      raw_answer: null,
    },
    {
      provider: 'llm',
      model: 'gpt-x',
      action: 'HOLD',
      confidence: 0,
      reasoning: '',
      stop_loss: null,
      take_profit: null,
      abstained: true,
      abstain_reason: 'circuit open',
      latency_ms: 0,
      tokens_in: 0,
      tokens_out: 0,
      cost_usd: 0,
      raw_answer: null,
    },
  ],
  weights: { trend: 0.6, llm: 0.4 },
  aggregation: 'weighted_vote',
  timings_ms: { total: 12 },
  created_at: '2026-01-01T03:00:00Z',
  risk: { approved: true, reason: 'within limits', size: '0.05', notional: '2250', checks: {} },
};

export const agentStopped: AgentStatus = {
  state: 'stopped',
  run_id: null,
  started_at: null,
  uptime_seconds: 0,
  cycles: 0,
  last_cycle_at: null,
  current_phase: null,
  current_instrument: null,
  instruments: ['BTC-USD', 'ETH-USD'],
  interval_seconds: 60,
  kill_switch: { tripped: false, reason: null, at: null, tripped_by: null, reset_by: null, reset_at: null },
  last_error: null,
};

export const agentRunning: AgentStatus = {
  ...agentStopped,
  state: 'running',
  run_id: 'run-1',
  started_at: '2026-01-01T00:00:00Z',
  uptime_seconds: 3725,
  cycles: 12,
  last_cycle_at: '2026-01-01T01:02:00Z',
  current_phase: 'deciding',
  current_instrument: 'BTC-USD',
};

export const approval: Approval = {
  id: 'apr-1',
  decision_id: 'dec-1',
  instrument: 'BTC-USD',
  summary: 'BUY 0.05 BTC-USD @ ~45000',
  status: 'pending',
  created_at: '2026-01-01T03:00:00Z',
  expires_at: '2026-01-01T03:15:00Z',
  decided_by: null,
  decided_at: null,
  channel_ref: null,
  action: 'BUY',
  size: '0.05',
  reference_price: '45000',
  notional: '2250.00',
  reason: null,
  card: {
    side: 'BUY',
    exposure_before: '0',
    exposure_after: '2250.00',
    var_before: '0',
    var_after: '41.20',
    agreeing: 2,
    voters: 3,
    brier: { trend: 0.21, llm: null },
    brier_window: 50,
    expected_price: '45022.50',
    expected_cost: '3.38',
  },
  on_expiry: 'deny',
  approved_size: null,
  size_now: '0.05',
};

export const parity: ParityReport = {
  day: '2026-01-01',
  score: 0.5,
  tolerance_bps: 50,
  judged: 2,
  venue_only: 0,
  shadow_only: 0,
  mean_slippage_bps: 25,
  pnl_divergence: '12.50',
  fills: [],
};

export const providers: ProvidersResponse = {
  items: [
    { provider: 'trend', weight: 0.6, votes: 40, scored: 30, provisional: false, hit_rate: 0.6, brier: 0.21, pnl: 120.5, last_reason: 'SMA cross', enabled: true, circuit: null, demoted: null },
    { provider: 'llm', weight: 0.4, votes: 40, scored: 28, provisional: true, hit_rate: 0.5, brier: 0.26, pnl: -10, last_reason: 'abstained', enabled: true, circuit: { state: 'open', failures: 5, last_error: 'timeout' }, demoted: 'trade P&L 2.00 over 30d does not cover its cost 12.00 USD (weight held at 0.05)' },
  ],
  weight_history: [
    { ts: '2026-01-01T00:00:00Z', weights: { trend: 0.5, llm: 0.5 } },
    { ts: '2026-01-01T01:00:00Z', weights: { trend: 0.6, llm: 0.4 } },
  ],
};

export const fills: Fill[] = [
  { fill_id: 'f-1', client_order_id: 'ffe-1', instrument: 'BTC-USD', side: 'BUY', quantity: '0.05', price: '42000', commission: '2.1', ts: '2026-01-01T01:00:00Z' },
];

export const strategies: Strategy[] = [
  { name: 'sma_cross', params: { fast: 10, slow: 30 }, level: 'target' },
  { name: 'rsi', params: { period: 14, lower: 30, upper: 70 }, level: 'target' },
  { name: 'sma_bracket', params: { fast: 10, slow: 30, sl: 0, tp: 0 }, level: 'order' },
];

export const instruments: Instrument[] = [
  { symbol: 'BTC-USD', asset_class: 'crypto', base: 'BTC', quote: 'USD', price_increment: '0.01', size_increment: '1E-8' },
  { symbol: 'ETH-USD', asset_class: 'crypto', base: 'ETH', quote: 'USD', price_increment: '0.01', size_increment: '1E-8' },
  { symbol: 'EUR-USD', asset_class: 'fx', base: 'EUR', quote: 'USD', price_increment: '0.00001', size_increment: '1' },
];

export const jobQueued: BacktestJob = {
  id: 'job-1',
  kind: 'optimize',
  status: 'queued',
  progress: 0,
  error: null,
  request: { kind: 'optimize', instrument: 'BTC-USD', strategy: 'sma_cross' },
  created_at: '2026-01-01T00:00:00Z',
  result: null,
};

export const jobWalkForwardDone: BacktestJob = {
  ...jobQueued,
  id: 'job-wf',
  kind: 'walk_forward',
  status: 'done',
  progress: 1,
  result: {
    stats: { 'Return [%]': 3.2 },
    equity: [
      { ts: '2025-01-01T00:00:00Z', equity: 10000 },
      { ts: '2025-01-02T00:00:00Z', equity: null },
      { ts: '2025-01-03T00:00:00Z', equity: 10320 },
    ],
    drawdown: [{ ts: '2025-01-01T00:00:00Z', drawdown: 0 }],
    trades: [],
    heatmap: null,
    windows: [
      { params: { fast: 5, slow: 20 }, in_sample_score: 1.2, oos_return_pct: 1.5 },
      { params: { fast: 10, slow: 30 }, in_sample_score: 0.8, oos_return_pct: -0.4 },
    ],
    pbo: 0.25,
    deflated_sharpe: 0.9,
  },
};

export const jobDone: BacktestJob = {
  ...jobQueued,
  status: 'done',
  progress: 1,
  result: {
    stats: { 'Return [%]': 12.34, 'Sharpe Ratio': 1.5, '# Trades': 4, 'Best params': 'fast=10, slow=30' },
    equity: [
      { ts: '2025-01-01T00:00:00Z', equity: 10000 },
      { ts: '2025-01-02T00:00:00Z', equity: 10500 },
      { ts: '2025-01-03T00:00:00Z', equity: 11234 },
    ],
    drawdown: [
      { ts: '2025-01-01T00:00:00Z', drawdown: 0 },
      { ts: '2025-01-02T00:00:00Z', drawdown: -0.02 },
      { ts: '2025-01-03T00:00:00Z', drawdown: 0 },
    ],
    trades: [
      { entry_time: '2025-01-01T00:00:00Z', exit_time: '2025-01-02T00:00:00Z', size: 1, entry_price: 100, exit_price: 105, pnl: 5, return_pct: 5 },
    ],
    heatmap: { x_param: 'fast', y_param: 'slow', metric: 'Sharpe Ratio', x: [5, 10], y: [20, 30], z: [[-0.1, 0.2], [0.15, null]] },
    best_params: { fast: 10, slow: 20 },
  },
};

export const jobPortfolioDone: BacktestJob = {
  ...jobQueued,
  id: 'job-pf',
  kind: 'backtest',
  status: 'done',
  progress: 1,
  request: { kind: 'backtest', instrument: 'BTC-USD', instruments: ['BTC-USD', 'ETH-USD'], strategy: 'sma_cross', risk_stops: true },
  result: {
    stats: { 'Return [%]': 4.5, '# Trades': 7 },
    equity: [
      { ts: '2025-01-01T00:00:00Z', equity: 10000 },
      { ts: '2025-01-02T00:00:00Z', equity: 10450 },
    ],
    drawdown: [{ ts: '2025-01-01T00:00:00Z', drawdown: 0 }],
    trades: [],
    heatmap: null,
    instruments: {
      'BTC-USD': { 'Return [%]': 3.1, 'Sharpe Ratio': 1.2, 'Max. Drawdown [%]': -2.5, '# Trades': 4, 'Win Rate [%]': 50 },
      'ETH-USD': { 'Return [%]': 1.4, 'Sharpe Ratio': null, 'Max. Drawdown [%]': -1.0, '# Trades': 3, 'Win Rate [%]': 33.3 },
    },
    exits: { 'BTC-USD': { signal: 2, stop_loss: 1, take_profit: 1 }, 'ETH-USD': { signal: 3 } },
    kill_switch_bar: null,
  },
};

export const spend: SpendReport = {
  as_of: '2026-01-01T03:00:00Z',
  day_start: '2026-01-01T00:00:00Z',
  month_start: '2026-01-01T00:00:00Z',
  total: { scope: '*', spent_today_usd: 1.5, spent_month_usd: 12, daily_budget_usd: 5, monthly_budget_usd: 100, calls_today: 30, tokens_in_today: 9000, tokens_out_today: 1200, exhausted: false },
  providers: [
    { scope: 'llm', spent_today_usd: 1.5, spent_month_usd: 12, daily_budget_usd: 1.5, monthly_budget_usd: null, calls_today: 30, tokens_in_today: 9000, tokens_out_today: 1200, exhausted: true },
  ],
};

export const providerValue: ProviderValue[] = [
  { provider: 'llm', window_days: 30, calls: 300, cost_usd: 12, scored: 40, brier: 0.2, brier_improvement: 2, pnl_usd: 60, brier_improvement_per_usd: 0.1667, pnl_per_usd: 5 },
  { provider: 'trend', window_days: 30, calls: 300, cost_usd: 0, scored: 40, brier: 0.22, brier_improvement: 1.2, pnl_usd: 20, brier_improvement_per_usd: null, pnl_per_usd: null },
];

const replayRow = { return_pct: 2.5, sharpe: 0.8, max_drawdown_pct: -4.1, trades: 6 };
const providerRow = (ret: number) => ({ ...replayRow, return_pct: ret, hit_rate: 0.52, brier: 0.24, votes: 250, abstentions: 50, overruled: 12, overruled_earned_pct: 1.5 });
const replayTs = ['2026-01-01T00:00:00Z', '2026-01-01T01:00:00Z', '2026-01-01T02:00:00Z'];

export const jobReplayDone: BacktestJob = {
  ...jobQueued,
  id: 'job-replay',
  kind: 'replay',
  status: 'done',
  progress: 1,
  request: { kind: 'replay', instrument: 'BTC-USD', bars: 300, providers: ['trend', 'mean_reversion', 'breakout'] },
  result: {
    'Return [%]': 2.5,
    trades: 6,
    final_equity: 10250,
    decisions: { BUY: 10, SELL: 8, HOLD: 282, total: 300 },
    attribution: {
      'BTC-USD': {
        horizon_bars: 4,
        ensemble: { ...replayRow, hit_rate: 0.55, brier: 0.22, decisions: 300 },
        providers: { trend: providerRow(3.1), mean_reversion: providerRow(-1.2), breakout: providerRow(0.4) },
        buy_and_hold: { ...replayRow, return_pct: 5.5, trades: 1 },
        quant_baseline: { ...replayRow, return_pct: 1.0 },
        equity: {
          ts: replayTs,
          ensemble: [10000, 10100, 10250],
          providers: { trend: [10000, 10200, 10310], mean_reversion: [10000, 9950, 9880], breakout: [10000, 10010, 10040] },
          buy_and_hold: [10000, 10300, 10550],
          quant_baseline: [10000, 10050, 10100],
        },
      },
    },
    cost: { calls: 0, cached: 0, cost_usd: 0, providers: {}, estimate: null },
    contaminated: true,
    lookahead: [{ provider: 'anthropic', model: 'claude-x', cutoff: '2026-03-01', first_decision: '2026-01-01T00:00:00Z' }],
    providers: ['trend', 'mean_reversion', 'breakout'],
    aggregation: 'weighted_majority',
    instruments: ['BTC-USD'],
  },
};

/** A walk-forward replay: the same run, which stored a live gate report that fails. */
export const jobReplayWalkForward: BacktestJob = {
  ...jobReplayDone,
  id: 'job-replay-wf',
  request: { kind: 'replay', instrument: 'BTC-USD', bars: 300, walk_forward: true },
  result: {
    ...(jobReplayDone.result as ReplayResult),
    contaminated: false,
    lookahead: [],
    live_gate: {
      created_at: '2026-12-07T10:00:00+00:00',
      instruments: ['BTC-USD'],
      candidates: ['ensemble', 'trend', 'mean_reversion', 'breakout'],
      contaminated: false,
      pbo: 0.62,
      deflated_sharpe: 0.4,
      oos_return_pct: 1.5,
      max_drawdown_pct: 3.2,
      out_of_sample_bars: 180,
      passed: false,
      failures: ['pbo 0.62 (needs <= 0.5)', 'deflated Sharpe 0.4 (needs >= 0.9)'],
    },
  },
};

export const liveGateOff: LiveGate = {
  state: 'off',
  enabled: true,
  max_age_days: 30,
  report: null,
  failures: ['no walk-forward report at data/live_gate.json (run ffe replay --walk-forward)'],
};

export const liveGateDisabled: LiveGate = {
  state: 'disabled',
  enabled: false,
  max_age_days: 30,
  report: { created_at: '2026-12-01T10:00:00+00:00', pbo: 0.25, deflated_sharpe: 0.93, oos_return_pct: 4.2, max_drawdown_pct: 6.5, instrument: 'BTC-USD' },
  failures: [],
};
