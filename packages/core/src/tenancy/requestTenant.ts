import { TenantRequiredError } from '../errors/errors.js';
import { runWithTenant } from './context.js';

/** The parts of an HTTP request a tenant can come from; node:http, Express and Fastify requests all fit. */
export interface TenantRequest {
  headers: Record<string, string | string[] | undefined>;
  url?: string | undefined;
}

/**
 * Where a request names its tenant:
 * - `'header'` (default): the header named by `header` (default `x-tenant`);
 * - `'path'`: the first segment of the URL path (`/acme/orders` → `acme`), relative to where the middleware is mounted;
 * - `'subdomain'`: the first label of a host name of at least three labels (`acme.app.example.com` → `acme`);
 *   IP addresses and hosts such as `localhost` or `example.com` name no tenant;
 * - a function, e.g. reading a claim of a verified JWT; returning `undefined` means "no tenant".
 */
export type TenantSource<Req = TenantRequest> = 'header' | 'path' | 'subdomain' | ((req: Req) => string | undefined);

/** Options of the framework packages' tenant middleware. */
export interface TenantFromRequestOptions<Req = TenantRequest> {
  /** Where the tenant comes from (default `'header'`). @example { from: 'subdomain' } */
  from?: TenantSource<Req>;
  /** The header read when `from` is `'header'` (default `'x-tenant'`). @example { header: 'x-org' } */
  header?: string;
}

/**
 * The tenant a request names, or `undefined`. Throws TENANT_REQUIRED only through `requireTenantFromRequest`.
 *
 * @example
 * tenantFromRequest({ headers: { host: 'acme.app.example.com' } }, { from: 'subdomain' }); // 'acme'
 */
export function tenantFromRequest<Req extends TenantRequest>(req: Req, options: TenantFromRequestOptions<Req> = {}): string | undefined {
  const from = options.from ?? 'header';
  if (typeof from === 'function') return nonEmpty(from(req));
  if (from === 'header') {
    const value = req.headers[(options.header ?? 'x-tenant').toLowerCase()];
    return nonEmpty(Array.isArray(value) ? value[0] : value);
  }
  if (from === 'path') {
    const url = req.url ?? '/';
    const end = url.search(/[?#]/);
    const path = end === -1 ? url : url.slice(0, end);
    const segment = path.split('/').find((s) => s !== '');
    return segment === undefined ? undefined : nonEmpty(safeDecode(segment));
  }
  const rawHost = req.headers[':authority'] ?? req.headers.host;
  const host = (Array.isArray(rawHost) ? rawHost[0] : rawHost)?.toLowerCase();
  if (!host || host.startsWith('[')) return undefined; // none, or an IPv6 literal
  const name = host.replace(/:\d+$/, '').replace(/\.$/, '');
  if (/^\d+(\.\d+){3}$/.test(name)) return undefined; // an IPv4 address
  const labels = name.split('.');
  return labels.length >= 3 ? nonEmpty(labels[0]) : undefined;
}

/** Like `tenantFromRequest`, but a request without a tenant is a TENANT_REQUIRED error saying where to put one. */
export function requireTenantFromRequest<Req extends TenantRequest>(req: Req, options: TenantFromRequestOptions<Req> = {}): string {
  const tenant = tenantFromRequest(req, options);
  if (tenant !== undefined) return tenant;
  const from = options.from ?? 'header';
  const where =
    from === 'header'
      ? `send the "${options.header ?? 'x-tenant'}" header`
      : from === 'path'
        ? 'start the URL path with the tenant id (/<tenant>/...)'
        : from === 'subdomain'
          ? 'use the tenant as the first label of the host name (<tenant>.example.com)'
          : 'make the request carry a tenant (the tenant function returned nothing)';
  throw new TenantRequiredError(`This request names no tenant: ${where}.`);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // left as sent; the tenant router rejects what is not a valid id
  }
}

/**
 * The whole of a tenant middleware, for frameworks whose middleware is `(req, res, next)`: resolves the request's
 * tenant, validates it with `validate` (the client's tenant rules, before anything touches the network), sets
 * `req.tenant` and calls `next()` inside `runWithTenant`; a request without a tenant goes on without one when
 * `optional`, and any error goes to `next(error)`.
 */
export function enterRequestTenant<Req extends TenantRequest & { tenant?: string }>(
  req: Req,
  options: TenantFromRequestOptions<Req> & { optional?: boolean },
  validate: (tenant: string) => unknown,
  next: (error?: unknown) => void,
): void {
  let tenant: string | undefined;
  try {
    tenant = options.optional ? tenantFromRequest(req, options) : requireTenantFromRequest(req, options);
    if (tenant !== undefined) validate(tenant);
  } catch (error) {
    next(error);
    return;
  }
  if (tenant === undefined) {
    next();
    return;
  }
  req.tenant = tenant;
  runWithTenant(tenant, () => next());
}
