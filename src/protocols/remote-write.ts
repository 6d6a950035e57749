/**
 * Prometheus remote write (version 1): a `WriteRequest` of time series, each of labels and samples, as metrics of a
 * KairosDB body — `__name__` is the metric, the other labels its tags (an empty label is no label, as in
 * Prometheus), values doubles. NaN and ±Inf samples (staleness markers among them) are left out and counted:
 * KairosDB's JSON cannot carry them. Native histograms and exemplars are left out and counted too.
 */
import { ProtobufError, ProtobufReader } from './protobuf.js';

/** The metrics of a write request, the time series each came from (its index), and the samples left out. */
export interface RemoteWrite {
  readonly metrics: Record<string, unknown>[];
  readonly origins: number[];
  readonly skipped: number;
}

/** A write request using more different label names than allowed (`maxNamesPerBody`). */
export class TooManyLabelNames extends Error {}

/**
 * Decodes a write request; a body that is not one throws a `ProtobufError` saying where it went wrong, one of more than
 * `maxNames` different label names a `TooManyLabelNames` (14,000 series of 49 new label names each held the event loop
 * 1.7 s as their tags were built).
 */
export function remoteWriteMetrics(bytes: Uint8Array, maxNames = Infinity): RemoteWrite {
  const request = new ProtobufReader(bytes);
  const names = new Set<string>();
  const metrics: Record<string, unknown>[] = [];
  const origins: number[] = [];
  let skipped = 0;
  let index = 0;
  while (!request.done) {
    const { field, wire } = request.tag();
    if (field !== 1 || wire !== 2) {
      request.skip(wire);
      continue;
    }
    const series = request.message();
    const tags: Record<string, string> = {};
    let name: string | undefined;
    const datapoints: [number, number][] = [];
    while (!series.done) {
      const inner = series.tag();
      if (inner.field === 1 && inner.wire === 2) {
        const [label, value] = labelOf(series.message());
        if (label === '__name__') name = value;
        else if (value !== '') {
          if (names.size >= maxNames && !names.has(label)) throw new TooManyLabelNames(`time series ${index}: more than ${maxNames} different label names in one write request (maxNamesPerBody)`);
          names.add(label);
          tags[label] = value;
        }
      } else if (inner.field === 2 && inner.wire === 2) {
        const [timestamp, value] = sampleOf(series.message());
        if (Number.isFinite(value)) datapoints.push([timestamp, value]);
        else skipped++;
      } else {
        if (inner.field === 3 || inner.field === 4) skipped++;
        series.skip(inner.wire);
      }
    }
    if (name === undefined || name === '') throw new ProtobufError(`time series ${index} has no __name__ label`);
    if (Object.keys(tags).length === 0) tags.add = 'tag';
    if (datapoints.length > 0) {
      metrics.push({ name, tags, type: 'double', datapoints });
      origins.push(index);
    }
    index++;
  }
  return { metrics, origins, skipped };
}

function labelOf(label: ProtobufReader): [string, string] {
  let name = '';
  let value = '';
  while (!label.done) {
    const { field, wire } = label.tag();
    if (field === 1 && wire === 2) name = label.string();
    else if (field === 2 && wire === 2) value = label.string();
    else label.skip(wire);
  }
  return [name, value];
}

function sampleOf(sample: ProtobufReader): [number, number] {
  let value = 0;
  let timestamp = 0;
  while (!sample.done) {
    const { field, wire } = sample.tag();
    if (field === 1 && wire === 1) value = sample.double();
    else if (field === 2 && wire === 0) timestamp = sample.int64();
    else sample.skip(wire);
  }
  return [timestamp, value];
}
