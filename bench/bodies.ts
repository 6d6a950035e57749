/** The benchmark's body shapes, as JSON text (and the other protocols' bodies of shape (b)'s points). */
import { ProtobufWriter } from '../src/protocols/protobuf.js';

const T0 = 1_700_000_000_000;

/** (a) 1 metric × 10,000 points. */
export function oneMetric(points = 10_000): string {
  const datapoints = Array.from({ length: points }, (_, i) => [T0 + i * 1000, (i * 7919) % 1000 / 10]);
  return JSON.stringify([{ name: 'bench.cpu', tags: { host: 'h1', dc: 'dc1' }, datapoints }]);
}

/** (b) 1,000 metrics × 10 points, 3 tags each; host names start with `host`. */
export function manyMetrics(metrics = 1_000, points = 10, host = 'h'): string {
  return JSON.stringify(
    Array.from({ length: metrics }, (_, m) => ({
      name: `bench.metric.${m % 50}`,
      tags: { host: `${host}${m}`, dc: `dc${m % 3}`, rack: `r${m % 7}` },
      datapoints: Array.from({ length: points }, (_, i) => [T0 + i * 1000, m + i]),
    })),
  );
}

/** (c) 10,000 single timestamp/value metrics. */
export function singles(metrics = 10_000): string {
  return JSON.stringify(
    Array.from({ length: metrics }, (_, m) => ({ name: `bench.single.${m % 100}`, timestamp: T0 + m, value: m * 1.5, tags: { host: `h${m % 20}` } })),
  );
}

/**
 * The store shapes with new points in every request (the store grows as in production): W1 1,000 series × 10 points,
 * W2 10 series × 1,000 points; request n's timestamps follow request n−1's. Values are gauges with two decimals.
 * The text is put together from pieces made once (the same bytes as JSON.stringify of the objects, at a third of
 * the cost): the load generator shares the machine with the server and must not be what limits the bound.
 */
export function newPoints(series: number, points: number): () => Buffer {
  let request = 0;
  const heads = Array.from({ length: series }, (_, s) => `{"name":"bench.store","tags":{"host":"h${s}","dc":"dc${s % 3}"},"datapoints":[`);
  const values = Array.from({ length: series }, (_, s) => Array.from({ length: points }, (_, i) => `,${Math.round((s + Math.sin(i / 10)) * 100) / 100}]`));
  return () => {
    const base = T0 + request++ * points * 1000;
    const stamps = Array.from({ length: points }, (_, i) => `[${base + i * 1000}`);
    let text = '[';
    for (let s = 0; s < series; s++) {
      const value = values[s] as string[];
      text += (s > 0 ? ',' : '') + heads[s];
      for (let i = 0; i < points; i++) text += (i > 0 ? ',' : '') + stamps[i] + value[i];
      text += ']}';
    }
    return Buffer.from(`${text}]`);
  };
}

/** Datapoints in a body built by the functions above. */
export const POINTS = { oneMetric: 10_000, manyMetrics: 10_000, singles: 10_000 } as const;

/** Shape (b)'s points as Influx line protocol: one line per point, `bench.metric.N,host=…,dc=…,rack=… v=… <ms>`. */
export function influxLines(metrics = 1_000, points = 10): string {
  const lines: string[] = [];
  for (let m = 0; m < metrics; m++) {
    for (let i = 0; i < points; i++) lines.push(`bench.metric.${m % 50},host=h${m},dc=dc${m % 3},rack=r${m % 7} v=${m + i}i ${T0 + i * 1000}`);
  }
  return lines.join('\n');
}

/** Shape (b)'s points as OpenTSDB's /api/put body: an array of single data points. */
export function openTsdbPoints(metrics = 1_000, points = 10): string {
  const out: unknown[] = [];
  for (let m = 0; m < metrics; m++) {
    for (let i = 0; i < points; i++) out.push({ metric: `bench.metric.${m % 50}`, timestamp: T0 + i * 1000, value: m + i, tags: { host: `h${m}`, dc: `dc${m % 3}`, rack: `r${m % 7}` } });
  }
  return JSON.stringify(out);
}

/** Shape (b)'s points as a Prometheus remote write request (protobuf, before snappy). */
export function remoteWriteRequest(metrics = 1_000, points = 10): Buffer {
  const request = new ProtobufWriter();
  for (let m = 0; m < metrics; m++) {
    const labels: [string, string][] = [['__name__', `bench_metric_${m % 50}`], ['host', `h${m}`], ['dc', `dc${m % 3}`], ['rack', `r${m % 7}`]];
    request.message(1, (series) => {
      for (const [name, value] of labels) series.message(1, (l) => l.string(1, name).string(2, value));
      for (let i = 0; i < points; i++) series.message(2, (sample) => sample.double(1, m + i).int64(2, T0 + i * 1000));
    });
  }
  return request.finish();
}
