import { CassandraStore } from '../src/cassandra.js';
import { storeConformanceSuite } from '../src/store-api/conformance.js';
import { CqlFake } from './cql-fake.js';

let fake: CqlFake;
storeConformanceSuite('CassandraStore (in-memory CQL fake, page size 3)', {
  create: async () => {
    fake = new CqlFake(1_700_000_000_000);
    const store = new CassandraStore({ client: fake, createSchema: true, pageSize: 3, clock: () => fake.now });
    await store.init();
    return store;
  },
  advance: (ms) => {
    fake.now += ms;
  },
});
