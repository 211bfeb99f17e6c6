import { Suspense } from 'react';
import { NavLink, Outlet } from 'react-router';
import { useHealth } from '../../api/health';
import { ModeBadge } from '../common/ModeBadge';
import { LoadingState } from '../common/States';
import { AgentStrip } from './AgentStrip';
import { ApiKeyControl } from './ApiKeyDialog';
import { Banners } from './Banners';
import { CircuitBreakerStatus } from './CircuitBreakerStatus';

const NAV = [
  { to: '/', label: 'Dashboard', end: true },
  { to: '/agent-control', label: 'Agent Control', end: false },
  { to: '/analytics', label: 'Analytics', end: false },
  { to: '/optimization', label: 'Optimization', end: false },
];

export function Layout() {
  const health = useHealth();
  return (
    <div className="app">
      <header className="app-header">
        <div className="brand">
          <span className="brand-name">ffe</span>
          <ModeBadge mode={health.data?.mode} />
          {health.data?.version && <span className="muted version">v{health.data.version}</span>}
        </div>
        <nav className="nav" aria-label="Main">
          {NAV.map((n) => (
            <NavLink key={n.to} to={n.to} end={n.end} className={({ isActive }) => `nav-link${isActive ? ' active' : ''}`}>
              {n.label}
            </NavLink>
          ))}
        </nav>
        <div className="header-right">
          <CircuitBreakerStatus />
          <ApiKeyControl />
        </div>
      </header>
      <Banners />
      <AgentStrip />
      <main className="main">
        <Suspense fallback={<LoadingState label="Loading page…" />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
