/**
 * Where roll-up tasks are kept: in the store's metadata, as KairosDB keeps them (service `_Rollups`, service key
 * `Config`, the task's id as key, its JSON as value; statuses under `Status`), so every instance sharing the store
 * sees the same tasks. On a tenant-bound mount the task's tenant is kept beside it (`Tenant`) and each tenant sees
 * its own.
 */
import type { MetadataStore } from '../store-api/contract.js';

const SERVICE = '_Rollups';
const CONFIG = 'Config';
const STATUS = 'Status';
const TENANT = 'Tenant';

/** A task as stored: its JSON (id first) and its tenant. */
export interface StoredTask {
  readonly id: string;
  readonly json: Record<string, unknown>;
  readonly tenant: string | undefined;
}

export class RollupTasks {
  constructor(private readonly meta: MetadataStore) {}

  /** Every task of every tenant, in id order. */
  async all(): Promise<StoredTask[]> {
    const tasks: StoredTask[] = [];
    for (const id of await this.meta.keys(SERVICE, CONFIG)) {
      const task = await this.#read(id);
      if (task) tasks.push(task);
    }
    return tasks;
  }

  /** The tasks of a tenant (undefined: of a mount without tenants). */
  async of(tenant: string | undefined): Promise<StoredTask[]> {
    return (await this.all()).filter((task) => task.tenant === tenant);
  }

  /** How many tasks the tenant has (undefined: a mount without tenants), without reading them. */
  async count(tenant: string | undefined): Promise<number> {
    const owners = await this.meta.keys(SERVICE, TENANT);
    if (tenant === undefined) return (await this.meta.keys(SERVICE, CONFIG)).length - owners.length;
    let n = 0;
    for (const id of owners) if ((await this.meta.get(SERVICE, TENANT, id)) === tenant) n++;
    return n;
  }

  /** The task, when it is the tenant's. */
  async get(id: string, tenant: string | undefined): Promise<StoredTask | undefined> {
    const task = await this.#read(id);
    return task?.tenant === tenant ? task : undefined;
  }

  async put(task: StoredTask): Promise<void> {
    if (task.tenant !== undefined) await this.meta.set(SERVICE, TENANT, task.id, task.tenant);
    await this.meta.set(SERVICE, CONFIG, task.id, JSON.stringify(task.json));
  }

  /** Removes the task and its status. */
  async remove(id: string): Promise<void> {
    await this.meta.delete(SERVICE, CONFIG, id);
    await this.meta.delete(SERVICE, STATUS, id);
    await this.meta.delete(SERVICE, TENANT, id);
  }

  async status(id: string): Promise<Record<string, unknown> | undefined> {
    const text = await this.meta.get(SERVICE, STATUS, id);
    return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
  }

  async setStatus(id: string, status: Record<string, unknown>): Promise<void> {
    await this.meta.set(SERVICE, STATUS, id, JSON.stringify(status));
  }

  async #read(id: string): Promise<StoredTask | undefined> {
    const text = await this.meta.get(SERVICE, CONFIG, id);
    if (text === undefined) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = { id, name: '(not JSON)' };
    }
    return { id, json: json as Record<string, unknown>, tenant: await this.meta.get(SERVICE, TENANT, id) };
  }
}
