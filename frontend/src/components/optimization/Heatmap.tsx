import type { Heatmap as HeatmapData } from '../../api/models';
import { formatStat } from '../../lib/format';
import { divergingColor, maxAbs } from '../../lib/scale';

/** Parameter heat map for optimize results: rows = y_param values, columns = x_param values. */
export function Heatmap({ data }: { data: HeatmapData }) {
  const values = data.z.flat().filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  const min = values.length ? Math.min(...values) : 0;
  const max = values.length ? Math.max(...values) : 0;
  const scale = maxAbs(values);
  const metric = data.metric ?? 'score';
  const best = values.length ? max : null;

  return (
    <div className="heatmap" data-testid="heatmap">
      <div className="table-wrap">
        <table className="heatmap-table">
          <caption data-testid="heatmap-metric">
            {metric} by {data.y_param} (rows) × {data.x_param} (columns)
          </caption>
          <thead>
            <tr>
              <th scope="col" className="heatmap-corner">{data.y_param} \ {data.x_param}</th>
              {data.x.map((x) => (
                <th key={String(x)} scope="col">{formatStat(x)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.y.map((y, yi) => (
              <tr key={String(y)}>
                <th scope="row">{formatStat(y)}</th>
                {data.x.map((x, xi) => {
                  const v = data.z[yi]?.[xi] ?? null;
                  const isBest = v !== null && v === best;
                  return (
                    <td
                      key={String(x)}
                      className={`heatmap-cell${isBest ? ' heatmap-best' : ''}`}
                      style={v === null ? undefined : { background: divergingColor(v, scale) }}
                      data-value={v ?? undefined}
                      title={`${data.x_param}=${x}, ${data.y_param}=${y}: ${metric} ${v === null ? 'n/a' : formatStat(v)}`}
                      data-testid="heatmap-cell"
                    >
                      {v === null ? '·' : formatStat(Number(v.toPrecision(4)))}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <div className="heatmap-legend muted small">
        {metric}: <span className="swatch" style={{ background: divergingColor(-1, 1) }} /> negative
        <span className="swatch" style={{ background: divergingColor(0, 1) }} /> 0
        <span className="swatch" style={{ background: divergingColor(1, 1) }} /> positive · range{' '}
        {formatStat(Number(min.toPrecision(4)))} to {formatStat(Number(max.toPrecision(4)))} (best outlined)
      </div>
    </div>
  );
}
