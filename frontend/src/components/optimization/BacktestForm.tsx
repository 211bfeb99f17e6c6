import { useMemo, useState, type FormEvent } from 'react';
import { useInstruments, useStrategies, useSubmitBacktest } from '../../api/backtests';
import type { BacktestJob, BacktestKind, BacktestRequest, ParamValue, Strategy } from '../../api/models';
import { useSettingsStore } from '../../stores/settings';
import { JobSubmit } from './JobSubmit';
import { ErrorState, LoadingState } from '../common/States';

const KINDS: { value: BacktestKind; label: string }[] = [
  { value: 'backtest', label: 'Backtest' },
  { value: 'walk_forward', label: 'Walk-forward' },
  { value: 'optimize', label: 'Optimize (grid search)' },
];

/** Parse "5, 10, 20" into numbers (or strings/booleans when not numeric). */
export function parseGridValues(text: string, like: ParamValue | null): ParamValue[] {
  return text
    .split(/[,\s]+/)
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => coerce(t, like));
}

function coerce(text: string, like: ParamValue | null): ParamValue {
  if (typeof like === 'boolean') return text === 'true' || text === '1';
  if (typeof like === 'number' || like === null) {
    const n = Number(text);
    return Number.isFinite(n) && text.trim() !== '' ? n : text;
  }
  return text;
}

interface FormState {
  kind: BacktestKind;
  instrument: string;
  strategy: string;
  params: Record<string, string>;
  grid: Record<string, string>;
  cash: string;
  commission: string;
  bars: string;
  /** A portfolio backtest: these instruments (two or more) on one account; empty: one instrument. */
  portfolio: string[];
  /** Portfolio: the risk manager's stop-loss and take-profit on every entry. */
  riskStops: boolean;
}

/** The submit button says what will run. */
export const RUN_LABEL: Record<BacktestKind, string> = {
  backtest: 'Run backtest',
  optimize: 'Run optimization',
  walk_forward: 'Run walk-forward',
  replay: 'Replay my ensemble',
};

export function buildRequest(form: FormState, strategy: Strategy | undefined): { request?: BacktestRequest; error?: string } {
  if (!form.instrument) return { error: 'Choose an instrument.' };
  if (!strategy) return { error: 'Choose a strategy.' };
  const cash = Number(form.cash);
  const commission = Number(form.commission);
  const bars = Number(form.bars);
  if (!Number.isFinite(cash) || cash <= 0) return { error: 'Cash must be a positive number.' };
  if (!Number.isFinite(commission) || commission < 0 || commission >= 0.1) return { error: 'Commission must be a fraction from 0 to 0.1 (e.g. 0.001 = 0.1 %).' };
  if (!Number.isInteger(bars) || bars < 100 || bars > 5000) return { error: 'Bars must be a whole number from 100 to 5000.' };

  const params: Record<string, ParamValue> = {};
  for (const [name, def] of Object.entries(strategy.params)) {
    const raw = form.params[name];
    if (raw === undefined || raw === '') {
      if (def !== null) params[name] = def;
      continue;
    }
    const v = coerce(raw, def);
    if (typeof def === 'number' && typeof v !== 'number') return { error: `Parameter ${name} must be a number.` };
    params[name] = v;
  }

  const request: BacktestRequest = { kind: form.kind, instrument: form.instrument, strategy: strategy.name, params, cash, commission, bars };
  const portfolio = form.kind === 'backtest' && strategy.level !== 'order' ? form.portfolio : [];
  if (portfolio.length === 1) return { error: 'A portfolio needs two or more instruments (or none for one instrument).' };
  if (portfolio.length > 1) {
    request.instruments = portfolio;
    request.instrument = portfolio[0];
    if (form.riskStops) request.risk_stops = true;
  }
  if (form.kind !== 'backtest') {
    const grid: Record<string, ParamValue[]> = {};
    for (const [name, def] of Object.entries(strategy.params)) {
      const text = form.grid[name] ?? '';
      if (!text.trim()) continue;
      const values = parseGridValues(text, def);
      if (typeof def === 'number' && values.some((v) => typeof v !== 'number')) return { error: `Grid values for ${name} must be numbers.` };
      grid[name] = values;
    }
    // An empty grid is allowed: the API then searches the strategy's built-in grid (or says 400).
    if (Object.keys(grid).length > 0) request.grid = grid;
  }
  return { request };
}

export function BacktestForm({ onSubmitted }: { onSubmitted: (job: BacktestJob) => void }) {
  const strategies = useStrategies();
  const instruments = useInstruments();
  const submit = useSubmitBacktest();
  const selectedInstrument = useSettingsStore((s) => s.selectedInstrument);

  const [form, setForm] = useState<FormState>({
    kind: 'backtest',
    instrument: selectedInstrument,
    strategy: '',
    params: {},
    grid: {},
    cash: '10000',
    commission: '0.001',
    bars: '500',
    portfolio: [],
    riskStops: false,
  });
  const [validation, setValidation] = useState<string | null>(null);

  // Until the user picks, default to the first instrument / strategy the API lists.
  const instrument = form.instrument || instruments.data?.[0]?.symbol || '';
  const strategyName = form.strategy || strategies.data?.[0]?.name || '';
  const strategy = useMemo(() => strategies.data?.find((s) => s.name === strategyName), [strategies.data, strategyName]);
  const update = (patch: Partial<FormState>) => setForm((f) => ({ ...f, ...patch }));

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const { request, error } = buildRequest({ ...form, instrument, strategy: strategyName }, strategy);
    setValidation(error ?? null);
    if (!request) return;
    submit.mutate(request, { onSuccess: (job) => onSubmitted(job) });
  };

  if (strategies.isPending) return <LoadingState label="Loading strategies…" />;
  if (strategies.isError) return <ErrorState error={strategies.error} onRetry={() => void strategies.refetch()} />;
  if (!strategies.data || strategies.data.length === 0) return <p className="muted">The API offers no strategies.</p>;

  const showGrid = form.kind !== 'backtest';
  const orderLevel = strategy?.level === 'order';
  const showPortfolio = form.kind === 'backtest' && !orderLevel && (instruments.data?.length ?? 0) > 1;
  const togglePortfolio = (symbol: string, on: boolean) =>
    update({ portfolio: on ? [...form.portfolio, symbol] : form.portfolio.filter((s) => s !== symbol) });
  return (
    <form className="form" onSubmit={onSubmit} aria-label="Backtest" data-testid="backtest-form" noValidate>
      <div className="form-grid">
        <label>
          <span>Kind</span>
          <select name="kind" value={form.kind} onChange={(e) => update({ kind: e.target.value as BacktestKind })}>
            {KINDS.map((k) => (
              <option key={k.value} value={k.value}>{k.label}</option>
            ))}
          </select>
        </label>
        <label>
          <span>Instrument</span>
          {instruments.data && instruments.data.length > 0 ? (
            <select name="instrument" value={instrument} onChange={(e) => update({ instrument: e.target.value })}>
              {!instruments.data.some((i) => i.symbol === instrument) && <option value={instrument}>{instrument || '—'}</option>}
              {instruments.data.map((i) => (
                <option key={i.symbol} value={i.symbol}>{i.symbol}</option>
              ))}
            </select>
          ) : (
            <input name="instrument" value={form.instrument} onChange={(e) => update({ instrument: e.target.value })} placeholder="BTC-USD" />
          )}
        </label>
        <label>
          <span>Strategy</span>
          <select name="strategy" value={strategyName} onChange={(e) => update({ strategy: e.target.value, params: {}, grid: {} })}>
            {strategies.data.map((s) => (
              <option key={s.name} value={s.name}>{s.level === 'order' ? `${s.name} (order-level)` : s.name}</option>
            ))}
          </select>
        </label>
        <label>
          <span>Cash</span>
          <input name="cash" type="number" min="0" step="any" inputMode="decimal" value={form.cash} onChange={(e) => update({ cash: e.target.value })} />
        </label>
        <label>
          <span>Commission</span>
          <input name="commission" type="number" min="0" max="0.1" step="any" inputMode="decimal" value={form.commission} onChange={(e) => update({ commission: e.target.value })} />
        </label>
        <label>
          <span>Bars</span>
          <input name="bars" type="number" min="100" max="5000" step="1" inputMode="numeric" value={form.bars} onChange={(e) => update({ bars: e.target.value })} />
        </label>
      </div>

      {orderLevel && (
        <p className="muted small" data-testid="order-level-note">
          An order-level strategy: it places orders bar by bar (entries, stops, targets) on one instrument.
        </p>
      )}

      {showPortfolio && (
        <fieldset className="params" data-testid="portfolio-fieldset">
          <legend>Portfolio (optional): two or more instruments on one account, sized by the risk settings</legend>
          <div className="row">
            {instruments.data?.map((i) => (
              <label key={i.symbol} className="checkbox">
                <input
                  type="checkbox"
                  aria-label={`portfolio ${i.symbol}`}
                  checked={form.portfolio.includes(i.symbol)}
                  onChange={(e) => togglePortfolio(i.symbol, e.target.checked)}
                />
                <span>{i.symbol}</span>
              </label>
            ))}
          </div>
          <label className="checkbox">
            <input type="checkbox" aria-label="risk stops" checked={form.riskStops} onChange={(e) => update({ riskStops: e.target.checked })} />
            <span>Stop-loss and take-profit on every entry, as the risk manager sets them</span>
          </label>
        </fieldset>
      )}

      {strategy && Object.keys(strategy.params).length > 0 && (
        <fieldset className="params">
          <legend>Parameters{showGrid ? ' (value · grid values, comma-separated; empty grid = strategy default)' : ''}</legend>
          {Object.entries(strategy.params).map(([name, def]) => (
            <div className="param-row" key={name}>
              <label>
                <span>{name}</span>
                {typeof def === 'boolean' ? (
                  <select aria-label={name} value={form.params[name] ?? String(def)} onChange={(e) => update({ params: { ...form.params, [name]: e.target.value } })}>
                    <option value="true">true</option>
                    <option value="false">false</option>
                  </select>
                ) : (
                  <input
                    aria-label={name}
                    type={typeof def === 'number' ? 'number' : 'text'}
                    step="any"
                    value={form.params[name] ?? (def === null ? '' : String(def))}
                    onChange={(e) => update({ params: { ...form.params, [name]: e.target.value } })}
                  />
                )}
              </label>
              {showGrid && (
                <label>
                  <span>{name} grid</span>
                  <input
                    aria-label={`${name} grid`}
                    placeholder={typeof def === 'number' ? `e.g. ${def}, ${Number(def) * 2}` : 'a, b'}
                    value={form.grid[name] ?? ''}
                    onChange={(e) => update({ grid: { ...form.grid, [name]: e.target.value } })}
                  />
                </label>
              )}
            </div>
          ))}
        </fieldset>
      )}

      <JobSubmit errorTestId="backtest-form-error" validation={validation} submit={submit} waiting={instruments.isPending}>
        {RUN_LABEL[form.kind]}
      </JobSubmit>
    </form>
  );
}
