import { useEffect, useId, useRef, useState } from 'react';
import { errorMessage } from '../../api/client';
import { useResetKillSwitch } from '../../api/agent';
import type { KillSwitch as KillSwitchState } from '../../api/models';
import { formatDateTime } from '../../lib/format';

/** Who tripped it, why and when, in one line (the confirmation repeats it). */
function tripLine(ks: KillSwitchState): string {
  const who = ks.tripped_by ? `by ${ks.tripped_by}` : '';
  const when = ks.at ? `at ${formatDateTime(ks.at)}` : '';
  return [`Tripped ${[who, when].filter(Boolean).join(' ')}`.trim(), ks.reason ?? 'no reason given'].join(': ');
}

function ConfirmReset({ ks, busy, onConfirm, onCancel }: {
  ks: KillSwitchState;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const titleId = useId();
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => cancelRef.current?.focus(), []);
  return (
    <div
      className="dialog-backdrop"
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid="kill-switch-confirm">
        <h3 id={titleId}>Reset the kill switch?</h3>
        <p data-testid="kill-switch-confirm-trip">{tripLine(ks)}</p>
        <p className="muted small">
          Resetting re-allows new entries; the drawdown is measured afresh from the current equity. Your reset is
          recorded (who and when). The agent stays stopped until you start it.
        </p>
        <div className="controls">
          <button type="button" className="btn btn-danger" onClick={onConfirm} disabled={busy}>
            {busy ? 'Resetting…' : 'Confirm reset'}
          </button>
          <button type="button" className="btn" onClick={onCancel} ref={cancelRef} disabled={busy}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}

/** The kill switch: armed, or tripped with who/why/when and a reset behind a confirmation. */
export function KillSwitch({ ks }: { ks: KillSwitchState }) {
  const reset = useResetKillSwitch();
  const [confirming, setConfirming] = useState(false);
  const confirm = () =>
    reset.mutate(undefined, {
      onSettled: () => setConfirming(false),
    });
  return (
    <>
      <div
        className={`killswitch ${ks.tripped ? 'killswitch-tripped' : 'killswitch-ok'}`}
        data-testid="kill-switch"
        data-tripped={ks.tripped}
        role={ks.tripped ? 'alert' : undefined}
      >
        <strong>Kill switch: {ks.tripped ? 'TRIPPED' : 'armed (not tripped)'}</strong>
        {ks.tripped && (
          <>
            <span data-testid="kill-switch-trip"> — {tripLine(ks)}</span>
            <div className="controls">
              <button
                type="button"
                className="btn btn-danger"
                onClick={() => setConfirming(true)}
                disabled={reset.isPending}
              >
                Reset kill switch
              </button>
            </div>
          </>
        )}
        {!ks.tripped && ks.reset_by && (
          <span className="small" data-testid="kill-switch-last-reset">
            {' '}
            — last reset by {ks.reset_by}
            {ks.reset_at && ` at ${formatDateTime(ks.reset_at)}`}
          </span>
        )}
        {reset.error && (
          <p className="error-text" role="alert" data-testid="kill-switch-error">
            {errorMessage(reset.error)}
          </p>
        )}
      </div>
      {confirming && ks.tripped && (
        <ConfirmReset ks={ks} busy={reset.isPending} onConfirm={confirm} onCancel={() => setConfirming(false)} />
      )}
    </>
  );
}
