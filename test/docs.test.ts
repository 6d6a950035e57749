import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const pages = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const text = (page: string) => readFileSync(join(root, page), 'utf8');

/**
 * Names the documentation's snippets use without declaring them (the host's app, its store, its own middleware), with
 * the type a snippet may assume: each snippet is checked with the declarations of those it uses and does not declare.
 */
const FREE: Record<string, string> = {
  app: "InstanceType<typeof import('koa')>",
  store: "import('koa-kairosdb').Store",
  myAuth: "import('koa').Middleware",
  myOtherRoutes: "import('koa').Middleware",
  router: "InstanceType<typeof import('@koa/router').default>",
  bodyParser: "() => import('koa').Middleware",
  kairosdb: "typeof import('koa-kairosdb').kairosdb",
  MyStore: "new () => import('koa-kairosdb').Store",
};

/** Names a snippet declares itself: imports, and const/let/function/class declarations. */
function declared(code: string): Set<string> {
  const names = new Set<string>();
  for (const m of code.matchAll(/import\s+(?:type\s+)?([\w$]+)?\s*,?\s*(?:\{([^}]*)\}|\*\s+as\s+([\w$]+))?\s*from/g)) {
    if (m[1]) names.add(m[1]);
    if (m[3]) names.add(m[3]);
    for (const part of (m[2] ?? '').split(',')) {
      const name = part.trim().replace(/^type\s+/, '').split(/\s+as\s+/).pop();
      if (name) names.add(name);
    }
  }
  for (const m of code.matchAll(/\b(?:const|let|var|function|class)\s+([\w$]+)/g)) names.add(m[1] as string);
  return names;
}

describe('documentation (README.md and docs/*.md)', () => {
  it('links only to files (and headings) that exist', () => {
    for (const page of pages) {
      // Relative links: a path (or #heading) of plain characters; `metric[0](name=…)` in messages is not one.
      for (const [, target] of text(page).matchAll(/\]\((?!https?:|mailto:)([\w./#-]+)\)/g)) {
        const [path = '', anchor] = (target as string).split('#');
        const file = path === '' ? join(root, page) : resolve(dirname(join(root, page)), path);
        assert.ok(existsSync(file), `${page} links to ${target}, which does not exist`);
        if (anchor && file.endsWith('.md')) {
          const slugs = [...readFileSync(file, 'utf8').matchAll(/^#+ (.*)$/gm)].map((m) => (m[1] as string).toLowerCase().replace(/[^\w\s-]/g, '').trim().replace(/\s+/g, '-'));
          assert.ok(slugs.includes(anchor), `${page} links to ${target}: no such heading`);
        }
      }
    }
  });

  it('has TypeScript snippets that type-check against the package (strict, nodenext)', () => {
    const blocks = pages.flatMap((page) => [...text(page).matchAll(/```ts\n([\s\S]*?)```/g)].map((m, i) => ({ page, i, code: m[1] as string })));
    assert.ok(blocks.length >= 10, `${blocks.length} snippets`);
    const dir = mkdtempSync(join(root, '.docs-check-'));
    try {
      const files = blocks.map(({ page, i, code }) => {
        const own = declared(code);
        const prelude = Object.entries(FREE)
          .filter(([name]) => !own.has(name) && new RegExp(`\\b${name}\\b`).test(code))
          .map(([name, type]) => `declare const ${name}: ${type};`);
        const name = `${page.replace(/[/.]/g, '_')}-${i}.mts`;
        writeFileSync(join(dir, name), `${code}\n${prelude.join('\n')}\nexport {};\n`);
        return name;
      });
      const src = (file: string) => [join(root, 'src', file)];
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            target: 'es2022', lib: ['ES2023', 'ES2024.String', 'ES2024.SharedMemory'], module: 'nodenext', moduleResolution: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'],
            paths: { 'koa-kairosdb': src('index.ts'), 'koa-kairosdb/sqlite': src('sqlite.ts'), 'koa-kairosdb/cassandra': src('cassandra.ts'), 'koa-kairosdb/test-suite': src('store-api/conformance.ts') },
          },
          files,
        }),
      );
      const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], { encoding: 'utf8' });
      assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
