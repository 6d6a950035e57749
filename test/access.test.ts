import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { restrictTags, stampTenant, tenantOf } from '../src/http/access.js';
import { resolveOptions } from '../src/options.js';
import { MemoryStore } from '../src/stores/memory.js';

describe('access (tenants and the authorize hook)', () => {
  it('stamps the tenant on every metric and refuses a metric naming another, leaving the body it got untouched', () => {
    const body = [{ name: 'm', tags: { h: 'a' } }, { name: 'n', tags: { h: 'b', tenant: 'acme' } }];
    assert.deepEqual(stampTenant(body, 'tenant', 'acme'), [
      { name: 'm', tags: { h: 'a', tenant: 'acme' } },
      { name: 'n', tags: { h: 'b', tenant: 'acme' } },
    ]);
    assert.deepEqual(body[0]?.tags, { h: 'a' });
    assert.throws(() => stampTenant([{ name: 'm', tags: { tenant: 'other' } }], 'tenant', 'acme'), { status: 403, errors: ['metric[0].tag[tenant] may not name another tenant'] });
  });

  it('stamps a body the mount parsed itself in place: the same metrics, their tags objects given the tag', () => {
    const body = [{ name: 'm', tags: { h: 'a' } }, { name: 'n', tags: { h: 'b', tenant: 'acme' } }, { name: 'x', tags: 7 }];
    const [m, n] = body;
    const stamped = stampTenant(body, 'tenant', 'acme', true) as typeof body;
    assert.equal(stamped, body);
    assert.equal(stamped[0], m);
    assert.deepEqual(body.map((metric) => metric.tags), [{ h: 'a', tenant: 'acme' }, { h: 'b', tenant: 'acme' }, 7]);
    assert.equal(n?.tags, body[1]?.tags);
    const single = { name: 'm', tags: { h: 'a' } };
    assert.equal(stampTenant(single, 'tenant', 'acme', true), single);
    assert.deepEqual(single.tags, { h: 'a', tenant: 'acme' });
    assert.throws(() => stampTenant([{ name: 'm', tags: {} }, { name: 'm', tags: { tenant: 'other' } }], 'tenant', 'acme', true), { status: 403, errors: ['metric[1].tag[tenant] may not name another tenant'] });
  });

  it("restricts a tag filter to the caller's tenant and refuses one naming only others", () => {
    assert.deepEqual({ ...restrictTags({ h: ['a'] }, 'tenant', 'acme') }, { h: ['a'], tenant: ['acme'] });
    assert.deepEqual({ ...restrictTags({ tenant: ['acme', 'other'] }, 'tenant', 'acme') }, { tenant: ['acme'] });
    assert.throws(() => restrictTags({ tenant: ['other'] }, 'tenant', 'acme'), { status: 403 });
    const unbound = { h: ['a'] };
    assert.equal(restrictTags(unbound, 'tenant', undefined), unbound);
  });

  it('reads the tenant of a request on a tenant-bound mount, and refuses a request without one', () => {
    const options = resolveOptions({ store: new MemoryStore(), tenant: (ctx) => (ctx as unknown as { state: { org?: string } }).state.org });
    assert.equal(tenantOf(options, { state: { org: 'acme' } } as never), 'acme');
    assert.throws(() => tenantOf(options, { state: {} } as never), { status: 403, errors: ['No tenant for this request'] });
    assert.equal(tenantOf(resolveOptions({ store: new MemoryStore() }), {} as never), undefined);
  });
});
