import type { MetadataStore, SeriesQuery, SeriesRead, SeriesWrite, Store, StoreCapabilities } from './contract.js';

/** A store created on first use, so its driver module loads only when a request needs it. */
export function lazyStore(load: () => Promise<Store>, capabilities: StoreCapabilities): Store {
  let loading: Promise<Store> | undefined;
  const get = () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  const metadataOf = async (): Promise<MetadataStore> => {
    const { metadata } = await get();
    if (!metadata) throw new Error('koa-kairosdb: this store keeps no metadata');
    return metadata;
  };
  return {
    capabilities,
    metadata: {
      set: async (service, serviceKey, key, value) => (await metadataOf()).set(service, serviceKey, key, value),
      get: async (service, serviceKey, key) => (await metadataOf()).get(service, serviceKey, key),
      serviceKeys: async (service) => (await metadataOf()).serviceKeys(service),
      keys: async (service, serviceKey) => (await metadataOf()).keys(service, serviceKey),
      delete: async (service, serviceKey, key) => (await metadataOf()).delete(service, serviceKey, key),
    },
    write: async (series: readonly SeriesWrite[]) => (await get()).write(series),
    async *read(query: SeriesQuery): AsyncIterable<SeriesRead> {
      yield* (await get()).read(query);
    },
    metricNames: async (prefix?: string) => (await get()).metricNames(prefix),
    delete: async (query: SeriesQuery) => (await get()).delete(query),
    ping: async () => (await get()).ping(),
    init: async () => {
      const store = await get();
      await (store.init ? store.init() : store.ping());
    },
    close: async () => {
      if (loading) await (await loading).close();
    },
  };
}
