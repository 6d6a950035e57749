import type { Context } from 'koa';

/** Handles one method of one route. */
export type Handler = (ctx: Context, param: string) => Promise<void>;

/** Routes by path (below the prefix), then by method. */
export type Routes = Record<string, Partial<Record<string, Handler>>>;
