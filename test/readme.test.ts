import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { MemoryStore } from '../src/index.js';
import { resolveOptions, ROUTE_GROUPS } from '../src/options.js';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const optionsPage = readFileSync(new URL('../docs/options.md', import.meta.url), 'utf8');

describe('README and docs/options.md', () => {
  it('states the defaults the code applies, for every numeric or string option', () => {
    const resolved = resolveOptions({ store: new MemoryStore() }) as unknown as Record<string, unknown>;
    const rows = [...`${readme}\n${optionsPage}`.matchAll(/^\| `(\w+)` \| `([^`]+)`/gm)].filter(([, name]) => name !== undefined && name in resolved && typeof resolved[name] !== 'function');
    assert.ok(rows.length >= 10, `${rows.length} option rows found`);
    for (const [, name, value] of rows) {
      const expected = resolved[name as string];
      const stated = typeof expected === 'number' ? Number(value) : value?.replace(/^'|'$/g, '');
      assert.equal(stated, expected, `README says ${name} = ${value}, the code uses ${String(expected)}`);
    }
  });

  it("matches the TSDoc @default of every option in src/options.ts (the code's defaults are the one source)", () => {
    const source = readFileSync(new URL('../src/options.ts', import.meta.url), 'utf8');
    const resolved = resolveOptions({ store: new MemoryStore() }) as unknown as Record<string, unknown>;
    const documented = [...source.matchAll(/@default ([^*\n]+?)\s*\*\/\s*\n\s*(\w+)\?:/g)].map((m) => [m[2] as string, (m[1] as string).trim()] as const);
    assert.ok(documented.length >= 20, `${documented.length} @default tags found`);
    for (const [name, text] of documented) {
      const expected = resolved[name];
      if (typeof expected === 'number') assert.equal(Number(text.split(' ')[0]), expected, `@default of ${name}`);
      else if (typeof expected === 'string') assert.equal(text.replace(/^'|'$/g, ''), expected, `@default of ${name}`);
    }
  });

  it('has a row for every numeric option in docs/options.md', () => {
    const resolved = resolveOptions({ store: new MemoryStore() }) as unknown as Record<string, unknown>;
    const documented = new Set([...optionsPage.matchAll(/^\| `(\w+)` \|/gm)].map(([, name]) => name));
    const missing = Object.keys(resolved).filter((name) => typeof resolved[name] === 'number' && !documented.has(name));
    assert.deepEqual(missing, []);
  });

  it('gives the two commands that CI and newcomers use', () => {
    assert.match(readme, /npm install && npm start/);
    assert.match(readme, /npm test/);
    assert.match(readFileSync(new URL('../.ci/run', import.meta.url), 'utf8'), /npm ci[\s\S]*npm test/);
  });

  it("names the example body's metrics with a TTL and without one as the body has them", () => {
    const body = JSON.parse(readFileSync(new URL('./fixtures/seed-example-body.json', import.meta.url), 'utf8')) as { name: string; ttl?: number }[];
    const sentence = /gives\s+((?:`\w+`(?:,|\s+and)?\s*)+)a `ttl` of 300[\s\S]*?;\s+((?:`\w+`(?:,|\s+and)?\s*)+)have no TTL/.exec(readme);
    assert.ok(sentence, 'the README says which metrics of the example body expire');
    const names = (text: string) => [...text.matchAll(/`(\w+)`/g)].map(([, name]) => name).sort();
    assert.deepEqual(names(sentence[1] as string), body.filter((m) => m.ttl === 300).map((m) => m.name).sort());
    assert.deepEqual(names(sentence[2] as string), body.filter((m) => m.ttl === undefined).map((m) => m.name).sort());
  });

  it('names every route group in the options tables', () => {
    for (const page of [readme, optionsPage]) {
      const row = /^\| `routes` \|.*$/m.exec(page)?.[0] ?? '';
      for (const group of ROUTE_GROUPS) assert.match(row, new RegExp(`\\b${group}\\b`), `routes row lacks ${group}`);
    }
  });
});
