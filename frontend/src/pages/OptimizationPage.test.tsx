import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { delay, http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { useSettingsStore } from '../stores/settings';
import * as fx from '../test/fixtures';
import { renderApp } from '../test/render';
import { API, server } from '../test/server';

describe('Optimization page', () => {
  it('submits an optimize job, shows progress, then the finished result with a heat map', async () => {
    let posted: Record<string, unknown> | null = null;
    let polls = 0;
    server.use(
      http.post(`${API}/api/v1/backtests`, async ({ request }) => {
        posted = (await request.json()) as Record<string, unknown>;
        return HttpResponse.json({ id: 'job-1', status: 'queued' }, { status: 202 });
      }),
      http.get(`${API}/api/v1/backtests/job-1`, () => {
        polls += 1;
        return HttpResponse.json(polls < 2 ? { ...fx.jobQueued, status: 'running', progress: 0.4 } : fx.jobDone);
      }),
    );
    const user = userEvent.setup();
    renderApp('/optimization');

    const form = await screen.findByTestId('backtest-form');
    await user.selectOptions(within(form).getByLabelText('Kind'), 'optimize');
    await waitFor(() => expect(within(form).getByLabelText('Instrument')).toHaveValue('BTC-USD'));
    await user.clear(within(form).getByLabelText('fast'));
    await user.type(within(form).getByLabelText('fast'), '12');
    await user.type(within(form).getByLabelText('fast grid'), '5, 10');
    await user.type(within(form).getByLabelText('slow grid'), '20 30');
    await user.clear(within(form).getByLabelText('Cash'));
    await user.type(within(form).getByLabelText('Cash'), '5000');
    expect(within(form).queryByRole('button', { name: 'Run backtest' })).not.toBeInTheDocument();
    await user.click(within(form).getByRole('button', { name: 'Run optimization' }));

    await waitFor(() => expect(posted).not.toBeNull());
    expect(posted).toEqual({
      kind: 'optimize',
      instrument: 'BTC-USD',
      strategy: 'sma_cross',
      params: { fast: 12, slow: 30 },
      grid: { fast: [5, 10], slow: [20, 30] },
      cash: 5000,
      commission: 0.001,
      bars: 500,
    });
    expect(useSettingsStore.getState().lastBacktestJobId).toBe('job-1');

    const result = await screen.findByTestId('backtest-result', {}, { timeout: 4000 });
    expect(screen.getByTestId('backtest-status')).toHaveTextContent('done');
    expect(within(result).getByTestId('equity-chart')).toHaveAttribute('data-points', '3');
    expect(within(result).getByTestId('drawdown-chart')).toBeInTheDocument();
    expect(within(result).getByTestId('stats-table')).toHaveTextContent('Sharpe Ratio');
    const heatmap = within(result).getByTestId('heatmap');
    expect(within(heatmap).getAllByTestId('heatmap-cell')).toHaveLength(4);
    expect(heatmap.querySelector('.heatmap-best')).toHaveTextContent('0.2');
    expect(within(heatmap).getByTestId('heatmap-metric')).toHaveTextContent('Sharpe Ratio by slow (rows) × fast (columns)');
    // diverging: a negative cell is red, a positive one green
    const cells = within(heatmap).getAllByTestId('heatmap-cell');
    const colour = (v: number) => cells.find((c) => Number(c.dataset.value) === v)?.style.background;
    expect(colour(-0.1)).toMatch(/^rgb\((\d+), /);
    const [rNeg, gNeg] = (colour(-0.1) ?? '').match(/\d+/g)!.map(Number);
    const [rPos, gPos] = (colour(0.2) ?? '').match(/\d+/g)!.map(Number);
    expect(rNeg).toBeGreaterThan(gNeg!);
    expect(gPos).toBeGreaterThan(rPos!);
    expect(within(result).getAllByTestId('backtest-trade-row')).toHaveLength(1);
    expect(within(result).getByTestId('backtest-trade-row')).toHaveTextContent('5.00%');
    expect(within(result).getByTestId('best-params')).toHaveTextContent('fast=10, slow=20');
  });

  it('submits a portfolio with risk stops and shows each instrument and its exits', async () => {
    let posted: Record<string, unknown> | null = null;
    server.use(
      http.post(`${API}/api/v1/backtests`, async ({ request }) => {
        posted = (await request.json()) as Record<string, unknown>;
        return HttpResponse.json({ ...fx.jobQueued, id: 'job-pf' }, { status: 202 });
      }),
      http.get(`${API}/api/v1/backtests/job-pf`, () => HttpResponse.json(fx.jobPortfolioDone)),
    );
    const user = userEvent.setup();
    renderApp('/optimization');
    const form = await screen.findByTestId('backtest-form');
    const portfolio = await within(form).findByTestId('portfolio-fieldset');
    await user.click(within(portfolio).getByLabelText('portfolio ETH-USD'));
    await user.click(within(form).getByRole('button', { name: 'Run backtest' }));
    expect(screen.getByTestId('backtest-form-error')).toHaveTextContent('two or more instruments');
    await user.click(within(portfolio).getByLabelText('portfolio BTC-USD'));
    await user.click(within(portfolio).getByLabelText('risk stops'));
    await user.click(within(form).getByRole('button', { name: 'Run backtest' }));
    await waitFor(() => expect(posted).not.toBeNull());
    expect(posted).toMatchObject({ kind: 'backtest', instrument: 'ETH-USD', instruments: ['ETH-USD', 'BTC-USD'], risk_stops: true });

    const table = await screen.findByTestId('portfolio-instruments', {}, { timeout: 4000 });
    const rows = within(table).getAllByTestId('portfolio-instrument-row');
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent('BTC-USD');
    expect(rows[0]).toHaveTextContent('stop loss 1');
    expect(rows[0]).toHaveTextContent('take profit 1');
    expect(rows[1]).toHaveTextContent('—'); // a null Sharpe
    expect(screen.getByText('Portfolio statistics')).toBeInTheDocument();
    expect(screen.queryByText(/^Trades \(/)).not.toBeInTheDocument();
    expect(screen.getByTestId('backtest-progress')).toHaveTextContent('sma_cross on a portfolio of BTC-USD, ETH-USD');
  });

  it('offers no portfolio for an order-level strategy and says what it is', async () => {
    let posted: Record<string, unknown> | null = null;
    server.use(
      http.post(`${API}/api/v1/backtests`, async ({ request }) => {
        posted = (await request.json()) as Record<string, unknown>;
        return HttpResponse.json({ ...fx.jobQueued, id: 'job-1' }, { status: 202 });
      }),
      http.get(`${API}/api/v1/backtests/job-1`, () => HttpResponse.json(fx.jobDone)),
    );
    const user = userEvent.setup();
    renderApp('/optimization');
    const form = await screen.findByTestId('backtest-form');
    await user.click(within(await within(form).findByTestId('portfolio-fieldset')).getByLabelText('portfolio ETH-USD'));
    await user.selectOptions(within(form).getByLabelText('Strategy'), 'sma_bracket');
    expect(within(form).getByRole('option', { name: 'sma_bracket (order-level)' })).toBeInTheDocument();
    expect(within(form).getByTestId('order-level-note')).toBeInTheDocument();
    expect(within(form).queryByTestId('portfolio-fieldset')).not.toBeInTheDocument();
    await user.selectOptions(within(form).getByLabelText('Kind'), 'optimize');
    await user.type(within(form).getByLabelText('sl grid'), '0, 0.02');
    await user.click(within(form).getByRole('button', { name: 'Run optimization' }));
    await waitFor(() => expect(posted).not.toBeNull());
    expect(posted).toMatchObject({ kind: 'optimize', strategy: 'sma_bracket', grid: { sl: [0, 0.02] } });
    expect(posted).not.toHaveProperty('instruments');
  });

  it('validates the form locally and shows the server detail on 400', async () => {
    server.use(
      http.post(`${API}/api/v1/backtests`, () => HttpResponse.json({ status_code: 400, detail: 'grid: give parameter values to search' }, { status: 400 })),
    );
    const user = userEvent.setup();
    renderApp('/optimization');
    const form = await screen.findByTestId('backtest-form');
    await user.clear(within(form).getByLabelText('Commission'));
    await user.type(within(form).getByLabelText('Commission'), '0.5');
    await user.click(within(form).getByRole('button', { name: 'Run backtest' }));
    expect(await screen.findByTestId('backtest-form-error')).toHaveTextContent('Commission must be');

    await user.clear(within(form).getByLabelText('Commission'));
    await user.type(within(form).getByLabelText('Commission'), '0.002');
    await user.selectOptions(within(form).getByLabelText('Kind'), 'walk_forward');
    await user.click(within(form).getByRole('button', { name: 'Run walk-forward' }));
    await waitFor(() => expect(screen.getByTestId('backtest-form-error')).toHaveTextContent('grid: give parameter values to search (HTTP 400)'));
  });

  it('shows walk-forward windows, PBO and tolerates null equity points', async () => {
    server.use(http.get(`${API}/api/v1/backtests/job-wf`, () => HttpResponse.json(fx.jobWalkForwardDone)));
    useSettingsStore.getState().setLastBacktestJobId('job-wf');
    renderApp('/optimization');
    const result = await screen.findByTestId('backtest-result');
    expect(within(result).getAllByTestId('walk-forward-row')).toHaveLength(2);
    expect(within(result).getByTestId('walk-forward-summary')).toHaveTextContent('PBO 0.25');
    expect(within(result).getByTestId('equity-chart')).toBeInTheDocument();
    expect(within(result).queryByTestId('heatmap')).not.toBeInTheDocument();
  });

  it('stops a running job with the cancel button and shows it cancelled', async () => {
    let deleted: string | null = null;
    server.use(
      http.get(`${API}/api/v1/backtests/job-1`, () =>
        HttpResponse.json(deleted ? { ...fx.jobQueued, status: 'cancelled', progress: 0.4 } : { ...fx.jobQueued, status: 'running', progress: 0.4 }),
      ),
      http.delete(`${API}/api/v1/backtests/:id`, ({ params }) => {
        deleted = String(params.id);
        return HttpResponse.json({ ...fx.jobQueued, status: 'cancelled', progress: 0.4 });
      }),
    );
    useSettingsStore.getState().setLastBacktestJobId('job-1');
    const user = userEvent.setup();
    renderApp('/optimization');
    await user.click(await screen.findByRole('button', { name: 'Stop' }));
    await waitFor(() => expect(deleted).toBe('job-1'));
    await waitFor(() => expect(screen.getByTestId('backtest-status')).toHaveTextContent('cancelled'));
    expect(screen.getByTestId('backtest-cancelled')).toHaveTextContent('Cancelled at 40%');
    expect(screen.queryByTestId('backtest-cancel')).not.toBeInTheDocument();
    expect(screen.queryByRole('progressbar')).not.toBeInTheDocument();
  });

  it('shows the server detail when a job cannot be cancelled any more', async () => {
    server.use(
      http.get(`${API}/api/v1/backtests/job-1`, () => HttpResponse.json({ ...fx.jobQueued, status: 'queued' })),
      http.delete(`${API}/api/v1/backtests/:id`, () =>
        HttpResponse.json({ status_code: 409, detail: "backtest job 'job-1' is already done" }, { status: 409 }),
      ),
    );
    useSettingsStore.getState().setLastBacktestJobId('job-1');
    const user = userEvent.setup();
    renderApp('/optimization');
    await user.click(await screen.findByRole('button', { name: 'Cancel' }));
    expect(await screen.findByTestId('backtest-cancel-error')).toHaveTextContent("backtest job 'job-1' is already done (HTTP 409)");
  });

  it('shows a failed job with its error', async () => {
    server.use(http.get(`${API}/api/v1/backtests/job-1`, () => HttpResponse.json({ ...fx.jobQueued, status: 'failed', error: "ValueError: no data for 'BTC-USD'" })));
    useSettingsStore.getState().setLastBacktestJobId('job-1');
    renderApp('/optimization');
    const error = await screen.findByTestId('job-error');
    expect(error).toHaveTextContent("Optimization failed: A value was not valid: no data for 'BTC-USD'.");
    expect(error).not.toHaveTextContent('ValueError');
  });

  it('shows the error when strategies cannot be loaded', async () => {
    server.use(http.get(`${API}/api/v1/strategies`, () => HttpResponse.json({ status_code: 500, detail: 'registry broken' }, { status: 500 })));
    renderApp('/optimization');
    expect(await within(screen.getByTestId('backtest-form-panel')).findByTestId('state-error')).toHaveTextContent('registry broken');
  });
});

describe('Before the instruments are known', () => {
  it('neither form can be submitted (a click would send no instrument)', async () => {
    server.use(
      http.get(`${API}/api/v1/instruments`, async () => {
        await delay('infinite');
        return HttpResponse.json({ items: [] });
      }),
    );
    renderApp('/optimization');
    const backtest = await screen.findByTestId('backtest-form');
    const replay = await screen.findByTestId('replay-form');
    expect(within(backtest).getByRole('button', { name: 'Run backtest' })).toBeDisabled();
    expect(within(replay).getByRole('button', { name: 'Replay my ensemble' })).toBeDisabled();
  });
});

describe('Replay my ensemble', () => {
  it('submits a replay, then shows the attribution table, the curves and the warnings', async () => {
    let posted: Record<string, unknown> | null = null;
    server.use(
      http.post(`${API}/api/v1/backtests`, async ({ request }) => {
        posted = (await request.json()) as Record<string, unknown>;
        return HttpResponse.json({ ...fx.jobReplayDone, status: 'queued', result: null }, { status: 202 });
      }),
      http.get(`${API}/api/v1/backtests/job-replay`, () => HttpResponse.json(fx.jobReplayDone)),
    );
    const user = userEvent.setup();
    renderApp('/optimization');
    const form = await screen.findByTestId('replay-form');
    await waitFor(() => expect(within(form).getByLabelText('Instrument')).toHaveValue('BTC-USD'));
    await user.clear(within(form).getByLabelText('Bars'));
    await user.type(within(form).getByLabelText('Bars'), '300');
    await user.type(within(form).getByLabelText('Providers'), 'trend, mean_reversion breakout');
    await user.click(within(form).getByRole('button', { name: 'Replay my ensemble' }));

    await waitFor(() => expect(posted).not.toBeNull());
    expect(posted).toEqual({ kind: 'replay', instrument: 'BTC-USD', bars: 300, approvals: 'auto', providers: ['trend', 'mean_reversion', 'breakout'] });
    const result = await screen.findByTestId('replay-result', {}, { timeout: 4000 });
    const rows = within(result).getAllByTestId('attribution-row');
    expect(rows.map((r) => r.querySelector('th')?.textContent)).toEqual([
      'Ensemble',
      'trend alone',
      'mean_reversion alone',
      'breakout alone',
      'Buy and hold',
      'Quant baseline (no LLM)',
    ]);
    expect(rows[2]).toHaveTextContent('-1.2%');
    const chart = within(result).getByTestId('replay-equity-chart');
    expect(chart).toHaveAttribute('data-series', '6');
    expect(chart).toHaveAttribute('data-points', '3');
    expect(within(result).getByTestId('replay-lookahead')).toHaveTextContent('Contaminated: anthropic (claude-x, trained to 2026-03-01)');
    expect(within(result).getByTestId('replay-cost')).toHaveTextContent('0 paid, 0 from the cache');
  });

  it('asks for a walk-forward report, shows its verdict and reloads the live gate', async () => {
    let posted: Record<string, unknown> | null = null;
    let gateReads = 0;
    server.use(
      http.post(`${API}/api/v1/backtests`, async ({ request }) => {
        posted = (await request.json()) as Record<string, unknown>;
        return HttpResponse.json({ ...fx.jobReplayWalkForward, status: 'queued', result: null }, { status: 202 });
      }),
      http.get(`${API}/api/v1/backtests/job-replay-wf`, () => HttpResponse.json(fx.jobReplayWalkForward)),
      http.get(`${API}/api/v1/live-gate`, () => {
        gateReads += 1;
        return HttpResponse.json(fx.liveGateOff);
      }),
    );
    const user = userEvent.setup();
    renderApp('/optimization');
    const form = await screen.findByTestId('replay-form');
    await waitFor(() => expect(within(form).getByLabelText('Instrument')).toHaveValue('BTC-USD'));
    await waitFor(() => expect(gateReads).toBe(1));
    await user.clear(within(form).getByLabelText('Bars'));
    await user.type(within(form).getByLabelText('Bars'), '300');
    await user.click(within(form).getByLabelText(/Walk-forward/));
    await user.click(within(form).getByRole('button', { name: 'Replay my ensemble' }));

    await waitFor(() => expect(posted).not.toBeNull());
    expect(posted).toEqual({ kind: 'replay', instrument: 'BTC-USD', bars: 300, approvals: 'auto', walk_forward: true });
    const verdict = await screen.findByTestId('replay-live-gate', {}, { timeout: 4000 });
    expect(verdict).toHaveAttribute('data-passed', 'false');
    expect(verdict).toHaveTextContent('fails · PBO 0.62');
    expect(verdict).toHaveTextContent('pbo 0.62 (needs <= 0.5)');
    await waitFor(() => expect(gateReads).toBe(2));
  });

  it('refuses a walk-forward replay on too few bars before sending it', async () => {
    const user = userEvent.setup();
    renderApp('/optimization');
    const form = await screen.findByTestId('replay-form');
    await user.clear(within(form).getByLabelText('Bars'));
    await user.type(within(form).getByLabelText('Bars'), '100');
    await user.click(within(form).getByLabelText(/Walk-forward/));
    await user.click(within(form).getByRole('button', { name: 'Replay my ensemble' }));
    expect(within(form).getByTestId('replay-form-error')).toHaveTextContent('A walk-forward report needs at least 107 bars.');
  });

  it('checks the replay form before sending it', async () => {
    const user = userEvent.setup();
    renderApp('/optimization');
    const form = await screen.findByTestId('replay-form');
    await user.clear(within(form).getByLabelText('Bars'));
    await user.type(within(form).getByLabelText('Bars'), '50');
    await user.click(within(form).getByRole('button', { name: 'Replay my ensemble' }));
    expect(within(form).getByTestId('replay-form-error')).toHaveTextContent('Bars must be a whole number from 100 to 5000.');
  });
});

describe('Live gate panel', () => {
  it('says when live trading runs without the gate and shows the stored report', async () => {
    server.use(http.get(`${API}/api/v1/live-gate`, () => HttpResponse.json(fx.liveGateDisabled)));
    renderApp('/optimization');
    const gate = await screen.findByTestId('live-gate');
    expect(gate).toHaveAttribute('data-state', 'disabled');
    expect(gate).toHaveTextContent('WITHOUT the gate (live_gate.enabled: false)');
    expect(within(gate).getByTestId('live-gate-report')).toHaveTextContent('PBO 0.25');
  });

  it('lists what a missing or failing report lacks', async () => {
    renderApp('/optimization');
    const failures = await screen.findByTestId('live-gate-failures');
    expect(failures).toHaveTextContent('no walk-forward report');
  });
});
