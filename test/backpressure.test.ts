import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reached, WaitingWrites } from '../src/stores/sqlite/backpressure.js';

describe('SQLite back-pressure (writes waiting for the compaction worker)', () => {
  it('makes writes that wait at once wait in a row: together they let in no more points than the worker moves', () => {
    const waiting = new WaitingWrites();
    const targets = Array.from({ length: 8 }, () => waiting.enter(1000, 10_000));
    assert.deepEqual(targets, [11_000, 21_000, 31_000, 41_000, 51_000, 61_000, 71_000, 81_000]);
    // The worker moves 10,000 points: one write is answered, not eight.
    assert.deepEqual(targets.map((t) => reached(11_000, t)), [true, false, false, false, false, false, false, false]);
  });

  it('starts from the worker’s count when nobody waits, or when the worker is past what the waiting are owed', () => {
    const waiting = new WaitingWrites();
    assert.equal(waiting.enter(0, 5), 5);
    waiting.leave();
    assert.equal(waiting.enter(100, 5), 105, 'nobody waits: from the count now');
    assert.equal(waiting.enter(200, 5), 205, 'the worker is past the 105 owed: from the count now');
    assert.equal(waiting.enter(201, 5), 210, 'after the write before it');
  });

  it('counts modulo 2^32, as the worker’s shared counter does', () => {
    const waiting = new WaitingWrites();
    const near = 2 ** 31 - 3;
    const target = waiting.enter(near, 10);
    assert.equal(target, (near + 10) | 0);
    assert.ok(!reached(near + 9, target));
    assert.ok(reached((near + 10) | 0, target));
    assert.equal(waiting.enter(near, 10), (near + 20) | 0, 'the next one past the wrap');
  });
});
