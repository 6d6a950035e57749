/** Every error the HTTP edge answers with: a stable code, its status and its message template. */
export const ERRORS = {
  BODY_TOO_LARGE: { status: 413, message: (limit: number) => `Request body exceeds the limit of ${limit} bytes` },
  UNSUPPORTED_ENCODING: { status: 415, message: (encoding: string) => `Unsupported Content-Encoding: ${encoding}` },
  UNSUPPORTED_MEDIA: { status: 415, message: (wanted: string) => `The body must be ${wanted}` },
  INVALID_GZIP: { status: 400, message: (detail: string) => `Invalid gzip body: ${detail}` },
  INVALID_JSON: { status: 400, message: (detail: string) => detail },
  INVALID_BODY: { status: 400, message: (detail: string) => detail },
  INVALID_PATH: { status: 400, message: (segment: string) => `Invalid URL encoding in '${segment}'` },
  QUERY_TOO_LARGE: {
    status: 400,
    message: (max: number) => `The query reads more than ${max} data points; narrow its time range or tags, or set a limit`,
  },
  QUERY_LIMIT: { status: 400, message: (detail: string) => detail },
  QUERY_OUTPUT_TOO_LARGE: {
    status: 400,
    message: (max: number) => `The query answers more than ${max} values (maxQueryOutputPoints); narrow its time range, use a larger sampling or set a limit`,
  },
  QUERY_TOO_MANY_GROUPS: {
    status: 400,
    message: (max: number) => `The query answers more than ${max} groups (maxQueryGroups); group by fewer tags or use a larger range_size`,
  },
  QUERY_RESPONSE_TOO_LARGE: {
    status: 400,
    message: (max: number) => `The query's answer exceeds ${max} bytes (maxQueryResponseBytes); narrow its time range or tags, or set a limit`,
  },
  QUERY_TOO_MANY_SERIES: {
    status: 400,
    message: (max: number) => `The query selects more than ${max} series of one metric (maxQuerySeries); narrow it with tags`,
  },
  QUERY_TIMEOUT: { status: 503, message: (ms: number) => `The query did not finish within ${ms} ms (queryTimeoutMs); narrow it or retry later` },
  QUERY_KILLED: { status: 503, message: (hash: string) => `The query was stopped by an administrator (GET /admin/killquery/${hash})` },
  ROLLUP_NOT_FOUND: { status: 404, message: (id: string) => `Resource not found for id ${id}` },
  ROLLUP_STATUS_NOT_FOUND: { status: 404, message: (id: string) => `Status not found for id ${id}` },
  TOO_MANY_ROLLUPS: { status: 400, message: (max: number) => `There are ${max} roll-up tasks already, the most allowed (rollups.maxTasks); delete one first` },
  UNKNOWN_QUERY: { status: 404, message: (hash: string) => `No running query has hash '${hash}' (GET /admin/runningqueries lists them)` },
  TOO_MANY_NAMES: { status: 400, message: (max: number) => `Invalid json. The body uses more than ${max} different member names (maxNamesPerBody).` },
  TOO_DEEP: { status: 400, message: (max: number) => `Invalid json. The body nests arrays and objects deeper than ${max} levels (maxJsonDepth).` },
  CLIENT_OVERLOADED: { status: 503, message: (max: number) => `Too many requests in flight from this client (at most ${max}); retry later` },
  BODY_TOO_SLOW: { status: 408, message: (rate: number) => `The request body arrived slower than ${rate} bytes/s` },
  REQUEST_ABORTED: { status: 400, message: () => 'The request body was not received completely' },
  BODY_TIMEOUT: { status: 408, message: (ms: number) => `The request body was not received within ${ms} ms` },
  FORBIDDEN: { status: 403, message: (detail: string) => detail },
  CROSS_SITE: {
    status: 403,
    message: (origin: string) =>
      `Cross-site request refused: a page from ${origin.slice(0, 200)} may not write, delete or change metadata here; list its origin in the allowedOrigins option to allow it`,
  },
  NEW_SERIES_RATE: {
    status: 429,
    message: (n: number, max: number) => `This write adds ${n} new series; at most ${max} new series a minute are accepted (maxNewSeriesPerMinute); retry later`,
  },
  OVERLOADED: { status: 503, message: () => 'Too many requests in flight; retry later' },
  STORE_TIMEOUT: { status: 503, message: (ms: number) => `The store did not answer within ${ms} ms; retry later` },
  METHOD_NOT_ALLOWED: { status: 405, message: (method: string, path: string) => `Method ${method} is not allowed on ${path}` },
  STORE_NOT_ANSWERING: { status: 503, message: () => 'The store does not answer' },
  STORE_UNAVAILABLE: { status: 503, message: () => 'The store is unavailable; retry later' },
  INTERNAL: { status: 500, message: (writing: boolean) => (writing ? 'Internal server error; the request was not stored' : 'Internal server error') },
  VALUE_TYPE_FAILED: { status: 500, message: (type: string) => `A stored value of type '${type}' could not be read back by the type's decode or toJSON (the server's log says why)` },
  UNKNOWN_FEATURE: { status: 404, message: (name: string) => `Unknown feature '${name.toLowerCase()}'` },
  METADATA_PATH: {
    status: 400,
    message: (detail: string) => `Invalid metadata path: ${detail}; use /metadata/{service}[/{serviceKey}[/{key}]]`,
  },
  METADATA_FULL: {
    status: 400,
    message: (max: number) => `The service already holds ${max} metadata keys (maxMetadataKeys); delete some or raise the option`,
  },
  METADATA_TOO_MANY: {
    status: 400,
    message: (max: number) => `The service holds more than ${max} metadata keys (maxMetadataKeys), too many to list; raise the option or delete some`,
  },
  METADATA_UNSUPPORTED: { status: 501, message: () => 'This store keeps no metadata' },
  NOT_UTF8: { status: 400, message: () => 'The body is not valid UTF-8' },
  INVALID_SNAPPY: { status: 400, message: (detail: string) => `Invalid snappy body: ${detail}` },
  INVALID_PROTOBUF: { status: 400, message: (detail: string) => `Invalid protobuf body: ${detail}` },
  LINE_PROTOCOL: { status: 400, message: (line: number, detail: string) => `unable to parse line ${line}: ${detail}` },
  PRECISION: { status: 400, message: (given: string) => `precision '${given.slice(0, 20)}' is not one of ns, n, us, u, ms, s, m, h` },
  FORM_BODY: {
    status: 400,
    message: () =>
      'The body was parsed as a form by a body parser mounted before koa-kairosdb; send it with Content-Type: application/json, or mount kairosdb() before the body parser',
  },
} as const;

/** The code of an error the HTTP edge can answer with. */
export type ErrorCode = keyof typeof ERRORS;

/** An error that becomes an HTTP answer: `status` and the `errors` list of the body. */
export class KairosHttpError extends Error {
  readonly status: number;
  readonly errors: readonly string[];
  /** Its messages are meant for the client (Koa does not print an exposed error it is handed). */
  readonly expose = true;

  constructor(
    readonly code: ErrorCode,
    errors: readonly string[],
    /** The answer's body in another protocol's shape (Influx, OpenTSDB); else `{ errors }`. */
    readonly body?: unknown,
  ) {
    super(errors[0] ?? code);
    this.name = 'KairosHttpError';
    this.status = ERRORS[code].status;
    this.errors = errors;
  }
}

/** Builds the HTTP error of a code from its template's arguments. */
export function httpError<C extends ErrorCode>(
  code: C,
  ...args: Parameters<(typeof ERRORS)[C]['message']>
): KairosHttpError {
  const template = ERRORS[code].message as (...a: unknown[]) => string;
  return new KairosHttpError(code, [template(...args)]);
}
