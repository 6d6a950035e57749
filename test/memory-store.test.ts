import { MemoryStore } from '../src/index.js';
import { storeConformanceSuite } from '../src/store-api/conformance.js';

let now = 1_700_000_000_000;
storeConformanceSuite('MemoryStore', {
  create: async () => new MemoryStore({ clock: () => now }),
  advance: (ms) => {
    now += ms;
  },
});
