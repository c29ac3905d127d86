/**
 * The admin API's own read handlers, called in process: the credits, report and log pages show
 * exactly what `GET /v1/admin/usage`, `/v1/admin/reports` and `/v1/admin/log` answer (the same
 * range parser, report options and chain verification), so no figure is computed twice.
 */
import { adminRoutes } from '../admin-routes.js';
import type { Vendor } from '../vendor.js';

type Routes = ReturnType<typeof adminRoutes>;
const cache = new WeakMap<Vendor, Routes>();

/** Call an admin GET route with these query parameters (undefined ones left out); its answer's fields. */
export async function adminGet(vendor: Vendor, path: '/v1/admin/usage' | '/v1/admin/reports' | '/v1/admin/log', params: Record<string, string | undefined>): Promise<Record<string, unknown>> {
  let routes = cache.get(vendor);
  if (routes === undefined) cache.set(vendor, (routes = adminRoutes(vendor, 64 * 1024)));
  const url = new URL(`http://portal.invalid${path}`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') url.searchParams.set(k, v);
  const route = routes[`GET ${path}`];
  if (route === undefined) throw new Error(`no admin route GET ${path}`);
  return route(new Request(url), url);
}
