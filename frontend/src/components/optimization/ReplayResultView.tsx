import { useMemo } from 'react';
import type { ReplayAttribution, ReplayGateReport, ReplayResult, ReplayRunSummary } from '../../api/models';
import { formatMoney, formatStat, signClass } from '../../lib/format';
import { MultiEquityChart, type NamedCurve } from './MultiEquityChart';

function pct(v: number | null | undefined): string {
  return v === null || v === undefined ? '—' : `${formatStat(v)}%`;
}

interface Row {
  label: string;
  run: ReplayRunSummary;
  hit?: number | null;
  brier?: number | null;
  votes?: string;
  overruled?: string;
}

function rowsOf(table: ReplayAttribution): Row[] {
  const rows: Row[] = [{ label: 'Ensemble', run: table.ensemble, hit: table.ensemble.hit_rate, brier: table.ensemble.brier, votes: `${table.ensemble.decisions} decisions` }];
  for (const [name, p] of Object.entries(table.providers)) {
    rows.push({
      label: `${name} alone`,
      run: p,
      hit: p.hit_rate,
      brier: p.brier,
      votes: `${p.votes} / ${p.abstentions} abstained`,
      overruled: `${p.overruled} (${p.overruled_earned_pct >= 0 ? '+' : ''}${formatStat(p.overruled_earned_pct)}%)`,
    });
  }
  rows.push({ label: 'Buy and hold', run: table.buy_and_hold });
  if (table.quant_baseline) rows.push({ label: 'Quant baseline (no LLM)', run: table.quant_baseline });
  return rows;
}

/** Ensemble, each provider alone, buy-and-hold and the quant baseline side by side. */
export function AttributionTable({ symbol, table }: { symbol: string; table: ReplayAttribution }) {
  return (
    <div className="table-wrap">
      <table className="table table-compact" data-testid="attribution-table" aria-label={`Attribution on ${symbol}`}>
        <thead>
          <tr>
            <th scope="col">{symbol}</th>
            <th scope="col" className="num">Return</th>
            <th scope="col" className="num">Sharpe</th>
            <th scope="col" className="num">Max DD</th>
            <th scope="col" className="num">Trades</th>
            <th scope="col" className="num">Hit rate</th>
            <th scope="col" className="num">Brier</th>
            <th scope="col">Votes</th>
            <th scope="col">Overruled (earned)</th>
          </tr>
        </thead>
        <tbody>
          {rowsOf(table).map((r) => (
            <tr key={r.label} data-testid="attribution-row">
              <th scope="row">{r.label}</th>
              <td className={`num ${signClass(r.run.return_pct)}`}>{pct(r.run.return_pct)}</td>
              <td className="num">{formatStat(r.run.sharpe)}</td>
              <td className="num">{pct(r.run.max_drawdown_pct)}</td>
              <td className="num">{r.run.trades}</td>
              <td className="num">{r.hit === undefined ? '' : formatStat(r.hit)}</td>
              <td className="num">{r.brier === undefined ? '' : formatStat(r.brier)}</td>
              <td className="small">{r.votes ?? ''}</td>
              <td className="small">{r.overruled ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function curvesOf(table: ReplayAttribution): NamedCurve[] {
  const eq = table.equity;
  const curves: NamedCurve[] = [{ name: 'Ensemble', values: eq.ensemble }];
  for (const [name, values] of Object.entries(eq.providers)) curves.push({ name: `${name} alone`, values });
  curves.push({ name: 'Buy and hold', values: eq.buy_and_hold });
  if (eq.quant_baseline) curves.push({ name: 'Quant baseline', values: eq.quant_baseline });
  return curves;
}

/** What the run may not be trusted for (look-ahead) and what it cost. */
export function ReplayWarnings({ result }: { result: ReplayResult }) {
  const cost = result.cost;
  return (
    <div className="replay-warnings" data-testid="replay-warnings">
      {result.contaminated ? (
        <p className="error-text" role="alert" data-testid="replay-lookahead">
          Contaminated: {result.lookahead.map((l) => `${l.provider} (${l.model}, trained to ${l.cutoff ?? 'an unknown date'})`).join(', ')} may remember this period.
        </p>
      ) : (
        <p className="muted small" data-testid="replay-lookahead">No look-ahead: no language model was trained on data after the first decision.</p>
      )}
      <p className={`small ${cost.cost_usd > 0 ? 'warn-text' : 'muted'}`} data-testid="replay-cost">
        Language-model calls: {cost.calls} paid, {cost.cached} from the cache · {formatMoney(cost.cost_usd)}
        {cost.estimate ? ` (estimated beforehand: ${cost.estimate.calls} calls, ${formatMoney(cost.estimate.cost_usd)})` : ''}
      </p>
    </div>
  );
}

function InstrumentReplay({ symbol, table }: { symbol: string; table: ReplayAttribution }) {
  const curves = useMemo(() => curvesOf(table), [table]);
  return (
    <section>
      <h3>Attribution: {symbol}</h3>
      <AttributionTable symbol={symbol} table={table} />
      <h3>Equity: ensemble, each provider alone, benchmarks</h3>
      <MultiEquityChart ts={table.equity.ts} curves={curves} />
    </section>
  );
}

/** The live gate's walk-forward report this replay stored, and whether it passes. */
export function ReplayGateVerdict({ gate }: { gate: ReplayGateReport }) {
  return (
    <div data-testid="replay-live-gate" data-passed={gate.passed}>
      <p className={`small ${gate.passed ? '' : 'warn-text'}`}>
        Live gate report stored ({gate.instruments.join(', ')}, {gate.out_of_sample_bars} out-of-sample bars): {gate.passed ? 'passes' : 'fails'} · PBO {formatStat(gate.pbo)} ·
        deflated Sharpe {formatStat(gate.deflated_sharpe)} · out-of-sample return {pct(gate.oos_return_pct)} · max drawdown {pct(gate.max_drawdown_pct)}
      </p>
      {gate.failures.length > 0 && (
        <ul className="small warn-text">
          {gate.failures.map((f) => (
            <li key={f}>{f}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ReplayResultView({ result }: { result: ReplayResult }) {
  const tables = useMemo(() => Object.entries(result.attribution), [result.attribution]);
  return (
    <div className="backtest-result" data-testid="replay-result">
      <ReplayWarnings result={result} />
      {result.live_gate && <ReplayGateVerdict gate={result.live_gate} />}
      <p className="small" data-testid="replay-summary">
        Final equity {formatMoney(result.final_equity)} · {result.trades} trades · decisions{' '}
        {Object.entries(result.decisions)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}{' '}
        · {result.aggregation} over {result.providers.join(', ')}
      </p>
      {tables.map(([symbol, table]) => (
        <InstrumentReplay key={symbol} symbol={symbol} table={table} />
      ))}
    </div>
  );
}
