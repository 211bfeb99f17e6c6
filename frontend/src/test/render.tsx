import { QueryClientProvider, type QueryClient } from '@tanstack/react-query';
import { render, renderHook } from '@testing-library/react';
import type { ReactElement, ReactNode } from 'react';
import { createMemoryRouter, MemoryRouter, RouterProvider } from 'react-router';
import { createQueryClient } from '../api/queryClient';
import { routes } from '../App';

export function testQueryClient(): QueryClient {
  const qc = createQueryClient({ retry: false });
  qc.setDefaultOptions({
    ...qc.getDefaultOptions(),
    queries: { ...qc.getDefaultOptions().queries, retry: false, refetchOnWindowFocus: false, gcTime: Infinity },
  });
  return qc;
}

/** Render a component inside a fresh QueryClient and a MemoryRouter. */
export function renderWithProviders(ui: ReactElement, { client = testQueryClient(), path = '/' } = {}) {
  const result = render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...result, client };
}

/** Render the whole app (layout + routes) at `path`. */
export function renderApp(path = '/', client = testQueryClient()) {
  const router = createMemoryRouter(routes, { initialEntries: [path] });
  const result = render(
    <QueryClientProvider client={client}>
      <RouterProvider router={router} />
    </QueryClientProvider>,
  );
  return { ...result, client, router };
}

export function renderHookWithClient<T>(hook: () => T, client = testQueryClient()) {
  const wrapper = ({ children }: { children: ReactNode }) => <QueryClientProvider client={client}>{children}</QueryClientProvider>;
  return { ...renderHook(hook, { wrapper }), client };
}
