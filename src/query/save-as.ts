/**
 * The `save_as` aggregator's points, gathered while a query runs and written once it has run (all or nothing, as an
 * ingest body is): KairosDB's SaveAsAggregator posts each point as it passes. A saved series' tags, in KairosDB's
 * order (later ones win): the aggregator's `tags`, `saved_from` (the metric queried, unless `add_saved_from` is
 * false), then each grouped tag that has one value in the result. A series left without tags gets `add=tag`, as the
 * line protocols give one (KairosDB saves nothing then).
 */
import type { QueryBudget } from './budget.js';
import type { SaveAs } from './spec.js';

interface SavedSeries {
  name: string;
  tags: Record<string, string>;
  type: string | undefined;
  ttl: number;
  datapoints: [number, unknown][];
}

export class SavedPoints {
  readonly #series = new Map<string, SavedSeries>();

  constructor(private readonly budget: QueryBudget) {}

  /**
   * Where the points of one result are saved: `from` the metric queried, `tags` the result's tags, `grouped` the tag
   * grouper's names, `type` the value type of text points (numbers take their type from the value, as in a body).
   */
  into(saveAs: SaveAs, from: string, tags: Readonly<Record<string, readonly string[]>>, grouped: readonly string[], type?: string): (ts: number, value: unknown) => void {
    const saved: Record<string, string> = {};
    const put = (name: string, value: string) => Object.defineProperty(saved, name, { value, enumerable: true, writable: true, configurable: true });
    for (const name of Object.keys(saveAs.tags)) put(name, saveAs.tags[name] as string);
    if (saveAs.addSavedFrom) put('saved_from', from);
    for (const name of grouped) {
      const values = Object.hasOwn(tags, name) ? tags[name] : undefined;
      if (values?.length === 1) put(name, values[0] as string);
    }
    if (Object.keys(saved).length === 0) put('add', 'tag');
    const key = JSON.stringify([saveAs.metric, type ?? null, saveAs.ttl, Object.entries(saved).sort()]);
    let series = this.#series.get(key);
    if (!series) this.#series.set(key, (series = { name: saveAs.metric, tags: saved, type, ttl: saveAs.ttl, datapoints: [] }));
    const { datapoints } = series;
    return (ts, value) => {
      this.budget.output();
      datapoints.push([ts, value]);
    };
  }

  /** The saved series as the metrics of an ingest body (empty when nothing passed a save_as stage). */
  metrics(): Record<string, unknown>[] {
    const metrics: Record<string, unknown>[] = [];
    for (const { name, tags, type, ttl, datapoints } of this.#series.values()) {
      if (datapoints.length === 0) continue;
      metrics.push({ name, tags, datapoints, ...(type === undefined ? {} : { type }), ...(ttl > 0 ? { ttl } : {}) });
    }
    return metrics;
  }
}

/** Whether a query metric saves points. */
export function savesPoints(aggregators: readonly { saveAs?: SaveAs }[]): boolean {
  return aggregators.some((a) => a.saveAs !== undefined);
}
