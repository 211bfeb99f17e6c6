import { isRouteErrorResponse, Link, useRouteError } from 'react-router';

/** Rendered when a page throws while rendering: a message instead of a blank screen. */
export function RouteErrorPage() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : String(error);
  return (
    <div className="page" role="alert" data-testid="page-error">
      <h1 className="page-title">Something went wrong</h1>
      <p className="error-text">{message}</p>
      <p>
        <Link to="/">Back to the dashboard</Link> · <button type="button" className="btn btn-small" onClick={() => window.location.reload()}>Reload</button>
      </p>
    </div>
  );
}
