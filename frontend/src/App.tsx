import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { lazy, useState } from 'react';
import { createBrowserRouter, RouterProvider, type RouteObject } from 'react-router';
import { createQueryClient } from './api/queryClient';
import { Layout } from './components/layout/Layout';
import { DashboardPage } from './pages/DashboardPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { RouteErrorPage } from './pages/RouteErrorPage';

// The dashboard is in the main bundle; the other pages (and recharts) load on first visit.
const AgentControlPage = lazy(() => import('./pages/AgentControlPage').then((m) => ({ default: m.AgentControlPage })));
const AnalyticsPage = lazy(() => import('./pages/AnalyticsPage').then((m) => ({ default: m.AnalyticsPage })));
const DecisionPage = lazy(() => import('./pages/DecisionPage').then((m) => ({ default: m.DecisionPage })));
const OptimizationPage = lazy(() => import('./pages/OptimizationPage').then((m) => ({ default: m.OptimizationPage })));

export const routes: RouteObject[] = [
  {
    path: '/',
    element: <Layout />,
    errorElement: <RouteErrorPage />,
    children: [
      { index: true, element: <DashboardPage /> },
      { path: 'agent-control', element: <AgentControlPage /> },
      { path: 'analytics', element: <AnalyticsPage /> },
      { path: 'optimization', element: <OptimizationPage /> },
      { path: 'decisions/:decisionId', element: <DecisionPage /> },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
];

export function App({ queryClient }: { queryClient?: QueryClient }) {
  const [client] = useState(() => queryClient ?? createQueryClient());
  const [router] = useState(() => createBrowserRouter(routes));
  return (
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  );
}
