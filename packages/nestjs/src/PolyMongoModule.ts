import { type DynamicModule, Global, Inject, Module, type ModuleMetadata, type OnApplicationShutdown, type Provider } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import type { TenantFromRequestOptions } from '@polymongo/core';
import { createPolyMongo, type NativeOptions, type PolyMongo } from '@polymongo/native';
import { PolyMongoExceptionFilter } from './PolyMongoExceptionFilter.js';
import { TenantMiddleware } from './TenantMiddleware.js';
import { POLYMONGO, POLYMONGO_MODULE_OPTIONS } from './tokens.js';

/** Options of the module's tenant middleware and exception filter. */
export interface PolyMongoModuleExtras {
  /** Where `TenantMiddleware` reads the tenant (default: the `x-tenant` header). @example { from: 'subdomain' } */
  tenant?: TenantFromRequestOptions & { optional?: boolean };
  /** Register the exception filter for PolyMongo errors app-wide (default true). @example { exceptionFilter: false } */
  exceptionFilter?: boolean;
}

/**
 * `PolyMongoModule.forRoot` options: either a client you made (`{ poly }`, which you close), or the options of
 * `createPolyMongo` (`{ uri, ...options }`: the module creates the client and closes it on application shutdown).
 */
export type PolyMongoModuleOptions = ({ poly: PolyMongo } | NativeOptions) & PolyMongoModuleExtras;

/** `forRootAsync` options: a factory for the same options, with its own imports and injections. */
export interface PolyMongoModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'>, PolyMongoModuleExtras {
  useFactory: (...args: never[]) => PolyMongoModuleOptions | Promise<PolyMongoModuleOptions>;
  inject?: Array<string | symbol | (abstract new (...args: never[]) => unknown)>;
}

interface ResolvedModuleOptions {
  tenant: TenantFromRequestOptions & { optional?: boolean };
  owned: boolean;
}

/** Closes a client the module created when the application shuts down (`app.close()`, or signals with `enableShutdownHooks()`). */
class PolyMongoLifecycle implements OnApplicationShutdown {
  constructor(
    private readonly poly: PolyMongo,
    private readonly options: ResolvedModuleOptions,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.options.owned) await this.poly.close();
  }
}
Inject(POLYMONGO)(PolyMongoLifecycle, undefined, 0);
Inject(POLYMONGO_MODULE_OPTIONS)(PolyMongoLifecycle, undefined, 1);

function clientOf(options: PolyMongoModuleOptions): { poly: PolyMongo; owned: boolean } {
  if ('poly' in options && options.poly) return { poly: options.poly, owned: false };
  const { tenant: _tenant, exceptionFilter: _filter, ...native } = options as NativeOptions & PolyMongoModuleExtras;
  return { poly: createPolyMongo(native), owned: true };
}

function providers(extras: PolyMongoModuleExtras, resolve: Provider[]): Provider[] {
  const list: Provider[] = [...resolve, PolyMongoLifecycle, TenantMiddleware];
  if (extras.exceptionFilter !== false) list.push({ provide: APP_FILTER, useClass: PolyMongoExceptionFilter });
  return list;
}

const CLIENT_AND_OPTIONS = Symbol('polymongo:nestjs:clientAndOptions');

/**
 * The PolyMongo client as a global NestJS module: inject it with `@InjectPolyMongo()`, apply `TenantMiddleware`
 * to routes so each request runs in its tenant's context, and PolyMongo errors are answered with the HTTP status
 * of `httpErrorOf` (400, 422, 429, 503, 500) by the module's exception filter.
 *
 * @example
 * \@Module({ imports: [PolyMongoModule.forRoot({ uri: process.env.MONGODB_URI!, strictTenancy: true })] })
 * export class AppModule implements NestModule {
 *   configure(consumer: MiddlewareConsumer) { consumer.apply(TenantMiddleware).forRoutes('*'); }
 * }
 */
export class PolyMongoModule {
  static forRoot(options: PolyMongoModuleOptions): DynamicModule {
    const { poly, owned } = clientOf(options);
    return {
      module: PolyMongoModule,
      global: true,
      providers: providers(options, [
        { provide: POLYMONGO, useValue: poly },
        { provide: POLYMONGO_MODULE_OPTIONS, useValue: { tenant: options.tenant ?? {}, owned } satisfies ResolvedModuleOptions },
      ]),
      exports: [POLYMONGO, POLYMONGO_MODULE_OPTIONS, TenantMiddleware],
    };
  }

  static forRootAsync(options: PolyMongoModuleAsyncOptions): DynamicModule {
    return {
      module: PolyMongoModule,
      global: true,
      imports: options.imports ?? [],
      providers: providers(options, [
        {
          provide: CLIENT_AND_OPTIONS,
          useFactory: async (...args: never[]) => {
            const resolved = await options.useFactory(...args);
            return { ...clientOf(resolved), tenant: resolved.tenant ?? options.tenant ?? {} };
          },
          inject: options.inject ?? [],
        },
        { provide: POLYMONGO, useFactory: (c: { poly: PolyMongo }) => c.poly, inject: [CLIENT_AND_OPTIONS] },
        {
          provide: POLYMONGO_MODULE_OPTIONS,
          useFactory: (c: ResolvedModuleOptions) => ({ tenant: c.tenant, owned: c.owned }),
          inject: [CLIENT_AND_OPTIONS],
        },
      ]),
      exports: [POLYMONGO, POLYMONGO_MODULE_OPTIONS, TenantMiddleware],
    };
  }
}
Global()(PolyMongoModule);
Module({})(PolyMongoModule);

/**
 * Injects the module's PolyMongo client.
 *
 * @example
 * constructor(@InjectPolyMongo() private readonly poly: PolyMongo) {}
 */
export const InjectPolyMongo = (): PropertyDecorator & ParameterDecorator => Inject(POLYMONGO);
