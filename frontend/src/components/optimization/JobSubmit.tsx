import type { ReactNode } from 'react';
import { errorMessage } from '../../api/client';

/** What a job form shows under its fields: the validation or submission error, and the submit
 * button. The button waits for the job being sent and for the instrument list (``waiting``): a
 * click before it loads would send no instrument. */
export function JobSubmit({
  errorTestId,
  validation,
  submit,
  waiting,
  children,
}: {
  errorTestId: string;
  validation: string | null;
  submit: { isError: boolean; isPending: boolean; error: unknown };
  waiting: boolean;
  children: ReactNode;
}) {
  const busy = submit.isPending || waiting;
  return (
    <>
      {(validation || submit.isError) && (
        <p className="error-text" role="alert" data-testid={errorTestId}>
          {validation ?? errorMessage(submit.error)}
        </p>
      )}
      <button type="submit" className="btn btn-primary" disabled={busy} aria-busy={busy}>
        {children}
      </button>
    </>
  );
}
