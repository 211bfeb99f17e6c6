import { useCallback } from 'react';
import { useInstruments } from '../api/backtests';
import { formatPrice } from './format';

/** `(symbol, value) → text`: a price to the instrument's increment, in its quote currency. */
export function usePriceFormatter(): (symbol: string, v: string | number | null | undefined) => string {
  const instruments = useInstruments();
  return useCallback(
    (symbol, v) => {
      const i = instruments.data?.find((x) => x.symbol === symbol);
      return formatPrice(v, i?.price_increment, i?.quote ?? 'USD');
    },
    [instruments.data],
  );
}
