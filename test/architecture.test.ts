import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const src = fileURLToPath(new URL('../src', import.meta.url));

/** Every module of src/ and the modules it imports (type-only imports and lazy `import()` included), as paths below src/. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts')) {
        const text = readFileSync(path, 'utf8');
        const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s+'(\.[^']+)'|import\(\s*'(\.[^']+)'\s*\)/g)].map((m) => (m[1] ?? m[2]) as string);
        const targets = specifiers.map((s) => relative(src, resolve(dirname(path), s)).replace(/\.js$/, '.ts'));
        graph.set(relative(src, path), [...new Set(targets)]);
      }
    }
  };
  walk(src);
  return graph;
}

describe('architecture (the import graph of src/)', () => {
  const graph = importGraph();

  it('reads the graph: every import names a module that exists', () => {
    assert.ok(graph.size > 40, `${graph.size} modules`);
    for (const [from, targets] of graph) for (const to of targets) assert.ok(graph.has(to), `${from} imports ${to}, which is not a module of src/`);
  });

  it('no store implementation is imported by ingest, http or options, nor by the store contract (store-api/)', () => {
    const offenders = [...graph].flatMap(([from, targets]) =>
      /^(ingest|http|store-api)\/|^options\.ts$/.test(from) ? targets.filter((t) => t.startsWith('stores/')).map((t) => `${from} → ${t}`) : [],
    );
    assert.deepEqual(offenders, []);
  });

  it('stores import neither ingest, http, query nor the middleware options', () => {
    const offenders = [...graph].flatMap(([from, targets]) =>
      from.startsWith('stores/') ? targets.filter((t) => /^(ingest|http|query)\/|^options\.ts$/.test(t)).map((t) => `${from} → ${t}`) : [],
    );
    assert.deepEqual(offenders, []);
  });

  it('query does not import ingest, and ingest does not import query', () => {
    const offenders = [...graph].flatMap(([from, targets]) =>
      targets.filter((t) => (from.startsWith('query/') && t.startsWith('ingest/')) || (from.startsWith('ingest/') && t.startsWith('query/'))).map((t) => `${from} → ${t}`),
    );
    assert.deepEqual(offenders, []);
  });

  it('has no import circle', () => {
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (node: string, path: string[]) => {
      if (state.get(node) === 'done') return;
      if (state.get(node) === 'open') return void circles.push([...path.slice(path.indexOf(node)), node].join(' → '));
      state.set(node, 'open');
      for (const next of graph.get(node) ?? []) visit(next, [...path, node]);
      state.set(node, 'done');
    };
    for (const node of graph.keys()) visit(node, []);
    assert.deepEqual(circles, []);
  });
});
