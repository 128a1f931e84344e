/** Sums one metric's series whose labels contain `match` in a Prometheus text page (a target's /metrics). */
export function metricSum(text: string, name: string, match: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(match)) continue;
    total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
