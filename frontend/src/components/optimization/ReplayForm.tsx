import { useState, type FormEvent } from 'react';
import { useInstruments, useSubmitBacktest } from '../../api/backtests';
import type { BacktestJob, BacktestRequest } from '../../api/models';
import { useSettingsStore } from '../../stores/settings';
import { JobSubmit } from './JobSubmit';

/** The fewest bars the server accepts for a walk-forward report (live_gate.MIN_DECIDED_BARS). */
const MIN_WALK_FORWARD_BARS = 107;
const AGGREGATIONS = ['', 'weighted_majority', 'confidence_weighted', 'unanimity', 'judge'];

interface ReplayFormState {
  instrument: string;
  bars: string;
  providers: string;
  aggregation: string;
  approvals: 'auto' | 'skip';
  allowLookahead: boolean;
  yes: boolean;
  maxCost: string;
  anonymize: boolean;
  walkForward: boolean;
}

/** The request a replay form asks for; an error in words when a field cannot be sent. */
export function buildReplayRequest(form: ReplayFormState): { request?: BacktestRequest; error?: string } {
  if (!form.instrument) return { error: 'Choose an instrument.' };
  const bars = Number(form.bars);
  if (!Number.isInteger(bars) || bars < 100 || bars > 5000) return { error: 'Bars must be a whole number from 100 to 5000.' };
  const request: BacktestRequest = { kind: 'replay', instrument: form.instrument, bars, approvals: form.approvals };
  const providers = form.providers
    .split(/[,\s]+/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (providers.length > 0) request.providers = providers;
  if (form.aggregation) request.aggregation = form.aggregation;
  if (form.allowLookahead) request.allow_lookahead = true;
  if (form.yes) request.yes = true;
  if (form.anonymize) request.anonymize = true;
  if (form.walkForward) {
    if (bars < MIN_WALK_FORWARD_BARS) return { error: `A walk-forward report needs at least ${MIN_WALK_FORWARD_BARS} bars.` };
    request.walk_forward = true;
  }
  if (form.maxCost.trim()) {
    const cap = Number(form.maxCost);
    if (!Number.isFinite(cap) || cap < 0) return { error: 'Max cost must be a number of dollars ≥ 0.' };
    request.max_cost = cap;
  }
  return { request };
}

/** "Replay my ensemble": the configured decision stack over the instrument's recent bars. */
export function ReplayForm({ onSubmitted }: { onSubmitted: (job: BacktestJob) => void }) {
  const instruments = useInstruments();
  const submit = useSubmitBacktest();
  const selectedInstrument = useSettingsStore((s) => s.selectedInstrument);
  const [form, setForm] = useState<ReplayFormState>({
    instrument: selectedInstrument,
    bars: '1000',
    providers: '',
    aggregation: '',
    approvals: 'auto',
    allowLookahead: false,
    yes: false,
    maxCost: '',
    anonymize: false,
    walkForward: false,
  });
  const [validation, setValidation] = useState<string | null>(null);
  const instrument = form.instrument || instruments.data?.[0]?.symbol || '';
  const update = (patch: Partial<ReplayFormState>) => setForm((f) => ({ ...f, ...patch }));

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const { request, error } = buildReplayRequest({ ...form, instrument });
    setValidation(error ?? null);
    if (!request) return;
    submit.mutate(request, { onSuccess: (job) => onSubmitted(job) });
  };

  return (
    <form className="form" onSubmit={onSubmit} aria-label="Replay my ensemble" data-testid="replay-form" noValidate>
      <p className="muted small">
        Replays the decision stack as configured (providers, weights, aggregation, risk limits, the execution gate) over recent bars, with each provider alone, buy-and-hold and a
        quant baseline beside it. Language-model votes come from the cache when they can; a paid call needs “spend” ticked.
      </p>
      <div className="form-grid">
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
          <span>Bars</span>
          <input name="bars" type="number" min="100" max="5000" step="1" inputMode="numeric" value={form.bars} onChange={(e) => update({ bars: e.target.value })} />
        </label>
        <label>
          <span>Providers</span>
          <input name="providers" placeholder="enabled ones" value={form.providers} onChange={(e) => update({ providers: e.target.value })} />
        </label>
        <label>
          <span>Aggregation</span>
          <select name="aggregation" value={form.aggregation} onChange={(e) => update({ aggregation: e.target.value })}>
            {AGGREGATIONS.map((a) => (
              <option key={a} value={a}>{a || 'as configured'}</option>
            ))}
          </select>
        </label>
        <label>
          <span>Held decisions</span>
          <select name="approvals" value={form.approvals} onChange={(e) => update({ approvals: e.target.value === 'skip' ? 'skip' : 'auto' })}>
            <option value="auto">approved automatically</option>
            <option value="skip">skipped</option>
          </select>
        </label>
        <label>
          <span>Max cost (USD)</span>
          <input name="max_cost" type="number" min="0" step="any" inputMode="decimal" placeholder="no cap" value={form.maxCost} onChange={(e) => update({ maxCost: e.target.value })} />
        </label>
        <label className="checkbox">
          <input type="checkbox" name="yes" checked={form.yes} onChange={(e) => update({ yes: e.target.checked })} />
          <span>Spend on uncached language-model calls</span>
        </label>
        <label className="checkbox">
          <input type="checkbox" name="allow_lookahead" checked={form.allowLookahead} onChange={(e) => update({ allowLookahead: e.target.checked })} />
          <span>Allow look-ahead (report marked contaminated)</span>
        </label>
        <label className="checkbox">
          <input type="checkbox" name="anonymize" checked={form.anonymize} onChange={(e) => update({ anonymize: e.target.checked })} />
          <span>Anonymise for language models (renamed, rebased, shifted)</span>
        </label>
        <label className="checkbox">
          <input type="checkbox" name="walk_forward" checked={form.walkForward} onChange={(e) => update({ walkForward: e.target.checked })} />
          <span>Walk-forward: store the live gate’s report of the configured stack</span>
        </label>
      </div>
      <JobSubmit errorTestId="replay-form-error" validation={validation} submit={submit} waiting={instruments.isPending}>
        Replay my ensemble
      </JobSubmit>
    </form>
  );
}
