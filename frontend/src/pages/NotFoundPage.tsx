import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <div className="page" data-testid="page-not-found">
      <h1 className="page-title">Page not found</h1>
      <p>
        <Link to="/">Back to the dashboard</Link>
      </p>
    </div>
  );
}
