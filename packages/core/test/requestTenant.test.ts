import { describe, expect, test } from 'vitest';
import { requireTenantFromRequest, tenantFromRequest } from '../src/index.js';

describe('tenantFromRequest', () => {
  test('reads x-tenant by default and a named header when asked', () => {
    expect(tenantFromRequest({ headers: { 'x-tenant': 'acme' } })).toBe('acme');
    expect(tenantFromRequest({ headers: { 'x-org': 'globex' } }, { header: 'X-Org' })).toBe('globex');
    expect(tenantFromRequest({ headers: { 'x-tenant': '' } })).toBeUndefined();
  });

  test('path: the first URL path segment, decoded, without the query string', () => {
    expect(tenantFromRequest({ headers: {}, url: '/acme/orders?x=1' }, { from: 'path' })).toBe('acme');
    expect(tenantFromRequest({ headers: {}, url: '//acme%2Dco/orders' }, { from: 'path' })).toBe('acme-co');
    expect(tenantFromRequest({ headers: {}, url: '/?x=1' }, { from: 'path' })).toBeUndefined();
  });

  test('subdomain: the first label of a host of at least three labels; IPs and short hosts name none', () => {
    const from = 'subdomain' as const;
    expect(tenantFromRequest({ headers: { host: 'acme.app.example.com:8443' } }, { from })).toBe('acme');
    expect(tenantFromRequest({ headers: { host: 'example.com' } }, { from })).toBeUndefined();
    expect(tenantFromRequest({ headers: { host: 'localhost:3000' } }, { from })).toBeUndefined();
    expect(tenantFromRequest({ headers: { host: '127.0.0.1:3000' } }, { from })).toBeUndefined();
    expect(tenantFromRequest({ headers: { host: '[::1]:3000' } }, { from })).toBeUndefined();
  });

  test('a request naming no tenant is TENANT_REQUIRED with a message saying where to put it', () => {
    expect(() => requireTenantFromRequest({ headers: { host: 'example.com' } }, { from: 'subdomain' })).toThrow(
      expect.objectContaining({ code: 'TENANT_REQUIRED', message: expect.stringContaining('first label of the host') }),
    );
    expect(() => requireTenantFromRequest({ headers: {} }, { header: 'x-org' })).toThrow(/"x-org" header/);
  });
});
