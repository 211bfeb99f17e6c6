import { useEffect, useId, useRef, type ReactNode } from 'react';

/**
 * A modal asking the operator to confirm an action that sends orders; Cancel has the focus and
 * Escape closes it, so a stray Enter never confirms.
 */
export function ConfirmDialog({
  title,
  children,
  confirmLabel,
  busyLabel,
  busy,
  onConfirm,
  onCancel,
  testId,
}: {
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busyLabel: string;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  testId: string;
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
      <div className="dialog" role="dialog" aria-modal="true" aria-labelledby={titleId} data-testid={testId}>
        <h3 id={titleId}>{title}</h3>
        {children}
        <div className="controls">
          <button type="button" className="btn btn-danger" onClick={onConfirm} disabled={busy}>
            {busy ? busyLabel : confirmLabel}
          </button>
          <button type="button" className="btn" onClick={onCancel} ref={cancelRef} disabled={busy}>
            Cancel
          </button>
        </div>
      </div>
    </div>
  );
}
