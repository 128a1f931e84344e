/**
 * A time-series chart (uPlot): the current period as a solid line, the previous period (shifted onto the
 * current one's time axis) dashed. Colours come from the theme's CSS variables; it follows its box's width.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  /** One value per x, null for a gap. */
  values: (number | null)[];
  previous?: boolean;
}

const integerSteps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7, 1e8, 1e9];

function cssVariable(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export function TimeChart(props: {
  title: string;
  /** Epoch ms of each point. */
  times: number[];
  series: ChartSeries[];
  format: (value: number) => string;
  testId?: string;
  theme: string;
  emptyText?: string;
  /** Counts: ticks at whole numbers only. */
  integer?: boolean;
  /** The x axis from .. to (epoch ms), so that one point does not fill the axis. */
  xRange?: [number, number];
}) {
  const box = useRef<HTMLDivElement>(null);
  const { times, series, format, theme, integer } = props;
  const xStart = props.xRange?.[0];
  const xEnd = props.xRange?.[1];
  useEffect(() => {
    const element = box.current;
    if (!element) return;
    if (series.every((entry) => entry.values.every((value) => value === null))) return;
    const text = cssVariable('--text-muted', '#666');
    const grid = cssVariable('--border', '#ddd');
    const palette = [cssVariable('--accent', '#2563eb'), cssVariable('--accent-2', '#db2777')];
    const options: uPlot.Options = {
      width: Math.max(240, element.clientWidth),
      height: 200,
      legend: { show: true },
      cursor: { points: { size: 6 } },
      scales: {
        x: xStart !== undefined && xEnd !== undefined ? { time: true, range: [xStart / 1000, xEnd / 1000] } : { time: true },
        y: { range: (_u: uPlot, _min: number, max: number) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
        {
          stroke: text,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid },
          size: 84,
          ...(integer ? { incrs: integerSteps } : {}),
          values: (_u, values) => values.map((value) => format(value)),
        },
      ],
      series: [
        { label: 'time' },
        ...series.map((entry, index) => ({
          label: entry.label,
          stroke: palette[entry.previous ? 1 : index % 2] ?? '#2563eb',
          width: entry.previous ? 1.5 : 2,
          dash: entry.previous ? [6, 4] : [],
          value: (_u: uPlot, value: number | null) => (value === null ? '–' : format(value)),
          spanGaps: false,
        })),
      ],
    };
    const data: uPlot.AlignedData = [times.map((time) => time / 1000), ...series.map((entry) => entry.values)];
    const chart = new uPlot(options, data, element);
    const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(240, element.clientWidth), height: 200 }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      chart.destroy();
    };
  }, [times, series, format, theme, xStart, xEnd, integer]);
  const empty = series.every((entry) => entry.values.every((value) => value === null));
  return (
    <figure class="card chart" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      {empty ? (
        <p class="muted chart-empty">{props.emptyText ?? 'No data for this range.'}</p>
      ) : (
        <div ref={box} class="chart-box" role="img" aria-label={`${props.title}, chart over time`} />
      )}
    </figure>
  );
}
