import { useState, type FormEvent } from 'react';
import { usePriceFormatter } from '../../lib/usePriceFormatter';
import { errorMessage } from '../../api/client';
import { useCreateDecision, useDecisions } from '../../api/decisions';
import { useInstruments } from '../../api/backtests';
import type { Decision } from '../../api/models';
import { formatDateTime, formatNumber, formatPct } from '../../lib/format';
import { useSettingsStore } from '../../stores/settings';
import { Panel } from '../common/Panel';
import { actionTone, Pill } from '../common/Pill';
import { QueryState } from '../common/States';

export function DecisionsList({ limit = 20 }: { limit?: number }) {
  const instrument = useSettingsStore((s) => s.selectedInstrument);
  const decisions = useDecisions({ limit, instrument: instrument || undefined });
  const [open, setOpen] = useState<ReadonlySet<string>>(new Set());
  // While a decision is expanded the list holds still: new ones wait behind a button.
  const [held, setHeld] = useState<Decision[] | null>(null);
  const latest = decisions.data?.items ?? [];
  const toggle = (id: string) => {
    const next = new Set(open);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setOpen(next);
    setHeld(next.size ? (held ?? latest) : null);
  };
  const shown = held ?? latest;
  const shownIds = new Set(shown.map((d) => d.id));
  const waiting = held ? latest.filter((d) => !shownIds.has(d.id)).length : 0;
  return (
    <Panel title="Recent decisions" className="span-2" testId="decisions-panel" actions={<RequestDecisionForm />}>
      {waiting > 0 && (
        <button type="button" className="btn btn-small" data-testid="decisions-new" onClick={() => setHeld(latest.some((d) => open.has(d.id)) ? latest : null)}>
          Show {waiting} new decision{waiting === 1 ? '' : 's'}
        </button>
      )}
      <QueryState
        query={decisions}
        isEmpty={(page) => page.items.length === 0}
        empty="No decisions yet. Start the agent or request a decision."
      >
        {() => (
          <ul className="decision-list">
            {shown.map((d) => (
              <DecisionRow key={d.id} decision={d} open={open.has(d.id)} onToggle={() => toggle(d.id)} />
            ))}
          </ul>
        )}
      </QueryState>
    </Panel>
  );
}

/** A decision, expandable to its votes; controlled (`open`/`onToggle`) or on its own. */
export function DecisionRow({ decision: d, open: openProp, onToggle, defaultOpen = false }: {
  decision: Decision;
  open?: boolean;
  onToggle?: () => void;
  defaultOpen?: boolean;
}) {
  const [openSelf, setOpenSelf] = useState(defaultOpen);
  const open = openProp ?? openSelf;
  const setOpen = (v: boolean) => (onToggle ? onToggle() : setOpenSelf(v));
  const price = usePriceFormatter();
  const votesId = `votes-${d.id}`;
  return (
    <li className="decision-row" data-testid="decision-row" data-decision-id={d.id} data-action={d.action}>
      <button
        type="button"
        className="decision-summary"
        aria-expanded={open}
        aria-controls={votesId}
        onClick={() => setOpen(!open)}
        aria-label={`${d.action} ${d.instrument} at ${formatDateTime(d.created_at)} — ${open ? 'hide' : 'show'} votes`}
      >
        <span className="caret" aria-hidden="true">{open ? '▾' : '▸'}</span>
        <Pill tone={actionTone(d.action)}>{d.action}</Pill>
        <span className="decision-instrument">{d.instrument}</span>
        <span className="muted">conf {formatPct(d.confidence, 0)}</span>
        {d.risk && (
          <Pill tone={d.risk.approved ? 'good' : 'warn'} title={d.risk.reason}>
            {d.risk.approved ? 'risk ok' : 'risk blocked'}
          </Pill>
        )}
        <span className="decision-time muted">{formatDateTime(d.created_at)}</span>
      </button>
      {open && (
        <div id={votesId} className="decision-details" data-testid="decision-votes">
          {d.reasoning && <p className="reasoning">{d.reasoning}</p>}
          <dl className="kv">
            <div><dt>Aggregation</dt><dd>{d.aggregation}</dd></div>
            <div><dt>Reference price</dt><dd>{price(d.instrument, d.reference_price)}</dd></div>
            <div><dt>Size</dt><dd>{d.suggested_size != null ? formatNumber(d.suggested_size, 8) : '—'}</dd></div>
            <div><dt>Stop / take</dt><dd>{price(d.instrument, d.stop_loss)} / {price(d.instrument, d.take_profit)}</dd></div>
            {d.risk && <div><dt>Risk</dt><dd>{d.risk.reason}</dd></div>}
          </dl>
          {d.votes.length === 0 ? (
            <p className="muted">No votes recorded.</p>
          ) : (
            <div className="table-wrap">
              <table className="table table-compact">
                <thead>
                  <tr>
                    <th scope="col">Provider</th>
                    <th scope="col">Vote</th>
                    <th scope="col" className="num">Conf</th>
                    <th scope="col" className="num">Weight</th>
                    <th scope="col" className="num">Latency</th>
                    <th scope="col">Reasoning</th>
                  </tr>
                </thead>
                <tbody>
                  {d.votes.map((v) => (
                    <tr key={v.provider} data-testid="vote-row">
                      <td>
                        {v.provider}
                        {v.model && <div className="muted small">{v.model}</div>}
                      </td>
                      <td>
                        {v.abstained ? (
                          <Pill tone="neutral" title={v.abstain_reason ?? undefined}>abstained</Pill>
                        ) : (
                          <Pill tone={actionTone(v.action)}>{v.action}</Pill>
                        )}
                      </td>
                      <td className="num">{formatPct(v.confidence, 0)}</td>
                      <td className="num">{d.weights[v.provider] !== undefined ? d.weights[v.provider]!.toFixed(2) : '—'}</td>
                      <td className="num">{Math.round(v.latency_ms)} ms</td>
                      <td className="reasoning-cell">{v.abstained ? v.abstain_reason : v.reasoning}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </li>
  );
}

/** Small inline form: instrument filter + "Request decision" (POST /api/v1/decisions). */
function RequestDecisionForm() {
  const instruments = useInstruments();
  const selected = useSettingsStore((s) => s.selectedInstrument);
  const setSelected = useSettingsStore((s) => s.setSelectedInstrument);
  const create = useCreateDecision();
  const symbols = instruments.data?.map((i) => i.symbol) ?? [];
  const target = selected || symbols[0] || '';

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (target) create.mutate({ instrument: target });
  };
  return (
    <form className="inline-form" onSubmit={onSubmit}>
      <label className="sr-only" htmlFor="decision-instrument">Instrument</label>
      <select id="decision-instrument" value={selected} onChange={(e) => setSelected(e.target.value)} disabled={symbols.length === 0}>
        <option value="">All instruments</option>
        {symbols.map((s) => (
          <option key={s} value={s}>{s}</option>
        ))}
      </select>
      <button type="submit" className="btn btn-small" disabled={!target || create.isPending}>
        {create.isPending ? 'Requesting…' : 'Request decision'}
      </button>
      {create.isError && <span className="error-text" role="alert">{errorMessage(create.error)}</span>}
    </form>
  );
}
