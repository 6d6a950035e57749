import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Admission } from '../src/http/admission.js';

const status = (fn: () => void) => {
  try {
    fn();
    return 0;
  } catch (error) {
    return (error as { status: number }).status;
  }
};

describe('Admission (one mount\'s in-flight limits)', () => {
  it('keeps separate slots for writes and queries: a full write pool does not refuse a query', () => {
    const admission = new Admission({ writes: 2, queries: 1, bytes: 100, perClient: 0 });
    admission.enter('write');
    admission.enter('write');
    assert.equal(status(() => admission.enter('write')), 503);
    assert.equal(status(() => admission.enter('query')), 0);
    assert.equal(status(() => admission.enter('query')), 503);
    admission.leave('write');
    assert.equal(status(() => admission.enter('write')), 0);
  });

  it('holds body bytes per request ticket and gives them all back on release', () => {
    const admission = new Admission({ writes: 1, queries: 1, bytes: 100, perClient: 0 });
    const a = { bytes: 0 };
    const b = { bytes: 0 };
    admission.reserve(60, a);
    admission.reserve(30, a);
    assert.equal(admission.available, 10);
    assert.equal(status(() => admission.reserve(11, b)), 503);
    admission.reserve(10, b);
    admission.release(a);
    assert.deepEqual([a.bytes, admission.available], [0, 90]);
    admission.release(a);
    assert.equal(admission.available, 90, 'a second release gives nothing back twice');
  });

  it('caps requests per client address with its own message, and forgets a client with none in flight', () => {
    const admission = new Admission({ writes: 9, queries: 9, bytes: 9, perClient: 2 });
    admission.enterClient('10.0.0.1');
    admission.enterClient('10.0.0.1');
    assert.throws(() => admission.enterClient('10.0.0.1'), { status: 503, errors: ['Too many requests in flight from this client (at most 2); retry later'] });
    admission.enterClient('10.0.0.2');
    admission.leaveClient('10.0.0.1');
    admission.enterClient('10.0.0.1');
    const unlimited = new Admission({ writes: 9, queries: 9, bytes: 9, perClient: 0 });
    for (let i = 0; i < 100; i++) unlimited.enterClient('10.0.0.1');
  });
});
