import { useQuery } from '@tanstack/react-query';
import { api } from './client';
import { POLL, queryKeys } from './queryKeys';
import type { Fill, ItemsResponse, Order, PortfolioStatus, Position } from './models';

/** `GET /api/v1/status`: cash, equity, P&L, drawdown, equity curve. */
export function usePortfolio() {
  return useQuery({
    queryKey: queryKeys.portfolio,
    queryFn: ({ signal }) => api.get<PortfolioStatus>('/api/v1/status', undefined, signal),
    refetchInterval: POLL.portfolio,
  });
}

/** `GET /api/v1/positions` → the items. */
export function usePositions() {
  return useQuery({
    queryKey: queryKeys.positions,
    queryFn: ({ signal }) => api.get<ItemsResponse<Position>>('/api/v1/positions', undefined, signal),
    select: (d) => d.items,
    refetchInterval: POLL.portfolio,
  });
}

const OPEN: ReadonlySet<Order['status']> = new Set(['new', 'submitted', 'accepted', 'partially_filled']);

/** An order still working at the venue (not filled, cancelled, rejected or expired). */
export function isOpenOrder(o: Order): boolean {
  return OPEN.has(o.status);
}

/** `GET /api/v1/orders?status=&instrument=` → the items. */
export function useOrders(filters: { status?: string; instrument?: string } = {}) {
  return useQuery({
    queryKey: queryKeys.orders(filters),
    queryFn: ({ signal }) => api.get<ItemsResponse<Order>>('/api/v1/orders', filters, signal),
    select: (d) => d.items,
    refetchInterval: POLL.portfolio,
  });
}

/** `GET /api/v1/fills` → the items. */
export function useFills() {
  return useQuery({
    queryKey: queryKeys.fills,
    queryFn: ({ signal }) => api.get<ItemsResponse<Fill>>('/api/v1/fills', undefined, signal),
    select: (d) => d.items,
    refetchInterval: POLL.portfolio,
  });
}
