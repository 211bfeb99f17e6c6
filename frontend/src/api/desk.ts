import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import type { FlattenList, FlattenResult, Order } from './models';

/** After a desk action the orders, positions, fills and account all move: refetch them. */
function useRefreshBook() {
  const qc = useQueryClient();
  return () => {
    for (const key of [['orders'], ['positions'], ['fills'], ['portfolio'], ['decisions']]) {
      void qc.invalidateQueries({ queryKey: key });
    }
  };
}

/** `POST /api/v1/orders/{id}/cancel`: through the execution gate; 404/409 carry the reason. */
export function useCancelOrder() {
  const refresh = useRefreshBook();
  return useMutation({
    mutationKey: ['desk', 'cancel'],
    mutationFn: (clientOrderId: string) =>
      api.post<Order>(`/api/v1/orders/${encodeURIComponent(clientOrderId)}/cancel`),
    onSettled: refresh,
  });
}

/** `POST /api/v1/positions/{instrument}/flatten`: 409 with the gate's reason if nothing was sent. */
export function useFlattenPosition() {
  const refresh = useRefreshBook();
  return useMutation({
    mutationKey: ['desk', 'flatten'],
    mutationFn: (instrument: string) =>
      api.post<FlattenResult>(`/api/v1/positions/${encodeURIComponent(instrument)}/flatten`),
    onSettled: refresh,
  });
}

/** `POST /api/v1/positions/flatten`: one result per position (sent, or why not). */
export function useFlattenAll() {
  const refresh = useRefreshBook();
  return useMutation({
    mutationKey: ['desk', 'flatten-all'],
    mutationFn: () => api.post<FlattenList>('/api/v1/positions/flatten'),
    onSettled: refresh,
  });
}
