import { useMemo } from 'react';
import { isJobActive, useBacktestJob, useCancelBacktest } from '../../api/backtests';
import { errorMessage } from '../../api/client';
import { isPortfolioResult, isReplayResult, type BacktestJob, type BacktestKind, type BacktestResult as Result } from '../../api/models';
import { formatDateTime, formatNumber, formatPct, formatStat, formatStatByName, signClass, toNumber } from '../../lib/format';
import { jobErrorInWords } from '../../lib/jobErrors';
import { DrawdownChart } from '../common/DrawdownChart';
import { EquityChart } from '../common/EquityChart';
import { Pill, type Tone } from '../common/Pill';
import { ErrorState, LoadingState } from '../common/States';
import { Heatmap } from './Heatmap';
import { ReplayResultView } from './ReplayResultView';

const KIND_LABEL: Record<BacktestKind, string> = { backtest: 'Backtest', optimize: 'Optimization', walk_forward: 'Walk-forward', replay: 'Replay' };

const STATUS_TONE: Record<string, Tone> = { queued: 'neutral', running: 'info', done: 'good', failed: 'bad', cancelled: 'warn' };

/** Cancels a queued or running job; shows the server's answer when it refuses (409: finished). */
function CancelButton({ job }: { job: BacktestJob }) {
  const cancel = useCancelBacktest();
  return (
    <>
      <button
        type="button"
        className="btn btn-danger btn-small"
        onClick={() => cancel.mutate(job.id)}
        disabled={cancel.isPending}
        aria-busy={cancel.isPending}
        data-testid="backtest-cancel"
      >
        {cancel.isPending ? 'Cancelling…' : job.status === 'queued' ? 'Cancel' : 'Stop'}
      </button>
      {cancel.isError && (
        <span className="error-text small" role="alert" data-testid="backtest-cancel-error">
          {errorMessage(cancel.error)}
        </span>
      )}
    </>
  );
}

/** What a job ran on, in words: "sma_cross on BTC-USD", "ensemble on BTC-USD, ETH-USD". */
export function jobSubject(job: BacktestJob): string {
  const r = job.request;
  if (job.kind === 'replay') return `ensemble on ${(r?.instruments?.length ? r.instruments : [r?.instrument ?? '']).join(', ')}`;
  if (r?.instruments?.length) return `${String(r.strategy ?? '')} on a portfolio of ${r.instruments.join(', ')}`;
  return `${String(r?.strategy ?? '')} on ${String(r?.instrument ?? '')}`;
}

export function JobProgress({ job }: { job: BacktestJob }) {
  const pct = Math.round(Math.max(0, Math.min(1, job.progress ?? 0)) * 100);
  return (
    <div className="job-progress" data-testid="backtest-progress" data-status={job.status}>
      <div className="row">
        <Pill tone={STATUS_TONE[job.status] ?? 'neutral'} testId="backtest-status">{job.status}</Pill>
        <span className="muted small">
          {job.kind} · {jobSubject(job)} · job {job.id}
        </span>
        {isJobActive(job) && <CancelButton job={job} />}
      </div>
      {(job.status === 'queued' || job.status === 'running') && (
        <div className="progress" role="progressbar" aria-label="Backtest progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
          <div className="progress-bar" style={{ width: `${pct}%` }} />
          <span className="progress-label">{pct}%</span>
        </div>
      )}
      {job.status === 'failed' && (
        <p className="error-text" role="alert" data-testid="job-error" title={job.error ?? undefined}>
          {KIND_LABEL[job.kind as BacktestKind] ?? 'Job'} failed: {jobErrorInWords(job.error)}
        </p>
      )}
      {job.status === 'cancelled' && (
        <p className="muted" data-testid="backtest-cancelled">
          Cancelled{pct > 0 ? ` at ${pct}%` : ' before it started'}; no result.
        </p>
      )}
    </div>
  );
}

export function StatsTable({ stats }: { stats: Result['stats'] }) {
  const entries = Object.entries(stats);
  if (entries.length === 0) return <p className="muted">No statistics.</p>;
  return (
    <div className="table-wrap">
      <table className="table table-compact stats-table" data-testid="stats-table">
        <tbody>
          {entries.map(([k, v]) => (
            <tr key={k}>
              <th scope="row">{k}</th>
              <td className="num">{formatStatByName(k, v)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function TradesTable({ trades }: { trades: Result['trades'] }) {
  if (trades.length === 0) return <p className="muted">No trades in this run.</p>;
  return (
    <div className="table-wrap trades-scroll">
      <table className="table table-compact">
        <thead>
          <tr>
            <th scope="col">Entry</th>
            <th scope="col">Exit</th>
            <th scope="col" className="num">Size</th>
            <th scope="col" className="num">Entry px</th>
            <th scope="col" className="num">Exit px</th>
            <th scope="col" className="num">P&amp;L</th>
            <th scope="col" className="num">Return</th>
          </tr>
        </thead>
        <tbody>
          {trades.map((t, i) => {
            const ret = toNumber(t.return_pct);
            return (
              <tr key={i} data-testid="backtest-trade-row">
                <td>{formatDateTime(t.entry_time)}</td>
                <td>{formatDateTime(t.exit_time)}</td>
                <td className="num">{formatNumber(t.size)}</td>
                <td className="num">{formatNumber(t.entry_price, 4)}</td>
                <td className="num">{formatNumber(t.exit_price, 4)}</td>
                <td className={`num ${signClass(t.pnl)}`}>{formatNumber(t.pnl, 2)}</td>
                {/* return_pct is already a percentage (the API multiplies by 100). */}
                <td className={`num ${signClass(ret)}`}>{ret === null ? '—' : formatPct(ret / 100)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

const INSTRUMENT_STATS = ['Return [%]', 'Sharpe Ratio', 'Max. Drawdown [%]', '# Trades', 'Win Rate [%]'];

/** A portfolio run: each instrument's statistics (its contribution to the account) and exits. */
function InstrumentsTable({ result }: { result: Result & { instruments: Record<string, Record<string, unknown>> } }) {
  return (
    <div className="table-wrap">
      <table className="table table-compact" data-testid="portfolio-instruments">
        <thead>
          <tr>
            <th scope="col">Instrument</th>
            {INSTRUMENT_STATS.map((k) => (
              <th key={k} scope="col" className="num">{k}</th>
            ))}
            <th scope="col">Exits</th>
          </tr>
        </thead>
        <tbody>
          {Object.entries(result.instruments).map(([symbol, stats]) => (
            <tr key={symbol} data-testid="portfolio-instrument-row">
              <th scope="row">{symbol}</th>
              {INSTRUMENT_STATS.map((k) => (
                <td key={k} className="num">{formatStatByName(k, stats[k])}</td>
              ))}
              <td className="small">
                {Object.entries(result.exits?.[symbol] ?? {})
                  .map(([why, n]) => `${why.replace('_', ' ')} ${n}`)
                  .join(' · ') || '—'}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {result.kill_switch_bar != null && (
        <p className="error-text small" data-testid="portfolio-kill-switch">
          The kill switch tripped at bar {result.kill_switch_bar}: everything was closed and no entry followed.
        </p>
      )}
    </div>
  );
}

function WalkForwardTable({ result }: { result: Result }) {
  return (
    <>
      <p className="muted small" data-testid="walk-forward-summary">
        PBO {formatStat(result.pbo ?? null)} · deflated Sharpe {formatStat(result.deflated_sharpe ?? null)}
      </p>
      <div className="table-wrap">
        <table className="table table-compact">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Params</th>
              <th scope="col" className="num">IS score</th>
              <th scope="col" className="num">OOS return</th>
            </tr>
          </thead>
          <tbody>
            {(result.windows ?? []).map((w, i) => (
              <tr key={i} data-testid="walk-forward-row">
                <td>{i + 1}</td>
                <td>
                  {Object.entries(w.params)
                    .map(([k, v]) => `${k}=${formatStat(v)}`)
                    .join(', ')}
                </td>
                <td className="num">{formatStat(w.in_sample_score)}</td>
                <td className={`num ${signClass(w.oos_return_pct)}`}>{w.oos_return_pct === null ? '—' : `${formatStat(w.oos_return_pct)}%`}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}

export function BacktestResultView({ result }: { result: Result }) {
  const equity = useMemo(() => result.equity.map((p) => ({ ts: p.ts, value: p.equity })), [result.equity]);
  return (
    <div className="backtest-result" data-testid="backtest-result">
      <div className="result-grid">
        <section>
          <h3>Equity</h3>
          {equity.length ? <EquityChart points={equity} height={240} /> : <p className="muted">No equity series.</p>}
        </section>
        <section>
          <h3>Drawdown</h3>
          {result.drawdown.length ? <DrawdownChart points={result.drawdown} height={240} /> : <p className="muted">No drawdown series.</p>}
        </section>
        <section>
          <h3>{isPortfolioResult(result) ? 'Portfolio statistics' : 'Statistics'}</h3>
          {result.best_params && (
            <p className="best-params" data-testid="best-params">
              Best parameters:{' '}
              {Object.entries(result.best_params)
                .map(([k, v]) => `${k}=${formatStat(v)}`)
                .join(', ')}
            </p>
          )}
          <StatsTable stats={result.stats} />
        </section>
        {isPortfolioResult(result) && (
          <section className="span-2">
            <h3>Instruments ({Object.keys(result.instruments).length})</h3>
            <InstrumentsTable result={result} />
          </section>
        )}
        {result.windows && result.windows.length > 0 && (
          <section>
            <h3>Walk-forward windows</h3>
            <WalkForwardTable result={result} />
          </section>
        )}
        {result.heatmap && (
          <section className="span-2">
            <h3>Parameter heat map</h3>
            <Heatmap data={result.heatmap} />
          </section>
        )}
        {!isPortfolioResult(result) && (
          <section className="span-2">
            <h3>Trades ({result.trades.length})</h3>
            <TradesTable trades={result.trades} />
          </section>
        )}
      </div>
    </div>
  );
}

/** Polls one job and shows progress, then the result. */
export function JobView({ jobId }: { jobId: string }) {
  const job = useBacktestJob(jobId);
  if (job.isPending) return <LoadingState label="Loading job…" />;
  if (!job.data) return <ErrorState error={job.error} onRetry={() => void job.refetch()} />;
  const j = job.data;
  return (
    <div className="job-view">
      <JobProgress job={j} />
      {j.status === 'done' && j.result && (isReplayResult(j.result) ? <ReplayResultView result={j.result} /> : <BacktestResultView result={j.result} />)}
      {j.status === 'done' && !j.result && <p className="muted">The job finished without a result.</p>}
    </div>
  );
}
