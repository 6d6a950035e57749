import type { SeriesWrite } from '../store/contract.js';
import type { TypeRegistry } from '../types/registry.js';
import { explain } from './explain.js';
import { normalise, type SeriesBuilder } from './normalise.js';
import { bodySchema } from './schema.js';
import { TagSets } from './tag-sets.js';

/** The series of a valid body, or the messages of an invalid one. */
export type IngestResult = { ok: true; series: SeriesWrite[] } | { ok: false; errors: string[] };

/** Settings of an ingest function. */
export interface IngestSettings {
  readonly types: TypeRegistry;
  readonly defaultTtl: number;
  readonly maxErrors: number;
}

/** Builds the function that turns a parsed body into series (fast path) or messages (schema path). */
export function createIngest(settings: IngestSettings): (body: unknown) => IngestResult {
  const schema = bodySchema(settings.types);
  const context = { types: settings.types, defaultTtl: settings.defaultTtl, tagSets: new TagSets<SeriesBuilder>() };
  return (body) => {
    const series = normalise(body, context);
    if (series) return { ok: true, series };
    const errors = explain(body, schema, settings.maxErrors);
    if (errors.length === 0) throw new Error('The ingest fast path rejected a body that the schema accepts');
    return { ok: false, errors };
  };
}
