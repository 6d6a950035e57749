import { ERRORS } from '../errors.js';
import { exceedsDepth } from '../json-depth.js';
import type { SeriesWrite } from '../store-api/contract.js';
import type { TypeRegistry } from '../types/registry.js';
import { explain } from './explain.js';
import { normalise, normaliseInTurns, type SeriesBuilder } from './normalise.js';
import { bodySchema } from './schema.js';
import { DEFAULT_TAG_LIMITS } from './rules.js';
import { TagSets } from './tag-sets.js';

/** The series of a valid body, or for an invalid one the function that says what is wrong (the costly part, run only when asked). */
export type IngestResult = { ok: true; series: SeriesWrite[] } | { ok: false; explain(): Promise<string[]> };

/** Settings of an ingest function. */
export interface IngestSettings {
  readonly types: TypeRegistry;
  readonly defaultTtl: number;
  readonly maxErrors: number;
  /** Deepest nesting a rejected body may have to be explained; deeper gets one message saying so. */
  readonly maxJsonDepth: number;
  readonly maxTagsPerSeries?: number;
  readonly maxTagNameLength?: number;
  readonly maxTagValueLength?: number;
}

/** Turns a parsed body into series (fast path) or, when invalid, messages (schema path). */
export interface Ingest {
  (body: unknown): IngestResult;
  /** The same for a large body, giving the event loop the turns `pause` returns between stretches (normalise.ts). */
  inTurns(body: unknown, pause: () => Promise<void> | undefined): Promise<IngestResult>;
}

/** Builds the function that turns a parsed body into series (fast path) or, when invalid, messages (schema path). */
export function createIngest(settings: IngestSettings): Ingest {
  const limits = {
    maxTags: settings.maxTagsPerSeries ?? DEFAULT_TAG_LIMITS.maxTags,
    maxNameLength: settings.maxTagNameLength ?? DEFAULT_TAG_LIMITS.maxNameLength,
    maxValueLength: settings.maxTagValueLength ?? DEFAULT_TAG_LIMITS.maxValueLength,
  };
  const schema = bodySchema(settings.types, limits);
  const context = { types: settings.types, defaultTtl: settings.defaultTtl, tagSets: new TagSets<SeriesBuilder>(undefined, limits) };
  const tooDeep = ERRORS.TOO_DEEP.message(settings.maxJsonDepth);
  /** The result of normalising `body`: its series, or what explains why not (`thrown`: what normalising threw). */
  const resultOf = (body: unknown, series: SeriesWrite[] | undefined, thrown: unknown): IngestResult => {
    if (series) return { ok: true, series };
    if (exceedsDepth(body, settings.maxJsonDepth)) return { ok: false, explain: async () => [tooDeep] };
    if (thrown !== undefined) throw thrown;
    return {
      ok: false,
      explain: async () => {
        const errors = await explain(body, schema, settings.maxErrors);
        if (errors.length === 0) throw new Error('The ingest fast path rejected a body that the schema accepts');
        return errors;
      },
    };
  };
  const ingest = (body: unknown): IngestResult => {
    let series: SeriesWrite[] | undefined;
    let thrown: unknown;
    try {
      series = normalise(body, context);
    } catch (error) {
      thrown = error;
    }
    return resultOf(body, series, thrown);
  };
  ingest.inTurns = (body: unknown, pause: () => Promise<void> | undefined): Promise<IngestResult> =>
    normaliseInTurns(body, context, pause).then(
      (series) => resultOf(body, series, undefined),
      (error: unknown) => resultOf(body, undefined, error),
    );
  return ingest;
}
