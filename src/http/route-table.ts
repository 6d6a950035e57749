import type { Handler } from './routes/route.js';

type Methods = Partial<Record<string, Handler>>;

/** A matched route: its methods, its declared path below the prefix (e.g. `/metric/{name}`) and its path parameter. */
export interface Match {
  methods: Methods;
  declared: string;
  param: string;
}

/**
 * The routes of a mount by full path. A declared path ending in `{name}` matches any non-empty last part (one
 * parameter, the rest of the path); every other path matches exactly.
 */
export class RouteTable {
  readonly #exact = new Map<string, { methods: Methods; declared: string }>();
  readonly #withParam: { start: string; methods: Methods; declared: string }[] = [];

  constructor(prefix: string, routes: Record<string, Methods>) {
    for (const [declared, methods] of Object.entries(routes)) {
      const brace = declared.indexOf('{');
      if (brace === -1) this.#exact.set(prefix + declared, { methods, declared });
      else this.#withParam.push({ start: prefix + declared.slice(0, brace), methods, declared });
    }
  }

  match(path: string): Match | undefined {
    const exact = this.#exact.get(path);
    if (exact) return { ...exact, param: '' };
    for (const route of this.#withParam) {
      if (path.length > route.start.length && path.startsWith(route.start)) return { methods: route.methods, declared: route.declared, param: path.slice(route.start.length) };
    }
    return undefined;
  }

  /** Every full path, parameters as declared (`/api/v1/metric/{name}`). */
  paths(): string[] {
    return [...this.#exact.keys(), ...this.#withParam.map((r) => r.start + r.declared.slice(r.declared.indexOf('{')))];
  }
}
