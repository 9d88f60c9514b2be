import { DriverMismatchError, InvalidModelError, type Route } from '@polymongo/core';
import { adapterHost, type ClosableStream, createPolyMongo, type NativeOptions, PolyMongo } from '@polymongo/native';
import defaultMongoose, { type Connection, type Mongoose } from 'mongoose';
import { TenantConnections } from './TenantConnections.js';
import { type AnyModel, tenantModel, type WrappedModel } from './WrappedModel.js';

export interface MongooseAdapterOptions {
  /** Share an existing native client (one MongoClient per cluster for both). */
  poly?: PolyMongo;
  /** The Mongoose instance whose models you wrap; default: the `mongoose` package's default instance. */
  mongoose?: Mongoose;
}

/**
 * Tenant-aware Mongoose models over PolyMongo's pools.
 */
export class MongooseAdapter {
  readonly poly: PolyMongo;
  readonly mongoose: Mongoose;
  private readonly connections: TenantConnections;
  private readonly ownsPoly: boolean;
  /** `watch` of every tenant model: one function for all, the tenant found from the model's connection. */
  private readonly trackedWatch: (this: AnyModel, ...args: unknown[]) => unknown;
  private readonly wrappedStatics = new WeakSet<object>();
  private readonly trackStream: (tenant: string, stream: ClosableStream) => void;

  constructor(poly: PolyMongo, mongoose: Mongoose, ownsPoly: boolean) {
    this.poly = poly;
    this.mongoose = mongoose;
    this.ownsPoly = ownsPoly;
    const host = adapterHost(poly);
    assertOneDriver(host.binding.driver.MongoClient, mongoose);
    const connections = new TenantConnections(host, mongoose, (model, conn) => this.track(model, conn));
    this.connections = connections;
    const { trackStream } = host.binding;
    this.trackStream = trackStream;
    this.trackedWatch = function trackedWatch(this: AnyModel, ...args: unknown[]) {
      // Mongoose's own watch: up the chain past tenant models (a discriminator's parent is one).
      let proto = Object.getPrototypeOf(this) as { watch: (...a: unknown[]) => unknown };
      while (proto.watch === trackedWatch) proto = Object.getPrototypeOf(proto);
      const inherited = proto.watch;
      const stream = inherited.apply(this, args) as ClosableStream;
      const tenant = connections.tenantOf(this.db);
      if (tenant !== undefined) trackStream(tenant, stream);
      return stream;
    };
  }

  /** The tenant's Mongoose connection (argument, else runWithTenant, else default). */
  connection(tenant?: string | null): Connection {
    return this.connections.connectionFor(tenant);
  }

  route(tenant?: string | null): Route {
    return this.poly.route(tenant);
  }

  /** The base Mongoose connection of a cluster's shared pool, bound to its MongoClient once that connects. */
  baseConnection(clusterId?: string): Connection {
    return this.connections.baseFor(clusterId);
  }

  /** The base model bound to one tenant's database, compiled on first use and cached. */
  model<M extends AnyModel>(base: M, tenant?: string | null): M {
    const conn = this.connections.connectionFor(tenant);
    // The hot path: nothing to check on a compiled model, its watch was tracked when it was compiled (`track`), also
    // when the application compiled it on the tenant connection itself.
    const compiled = conn.models[base.modelName] as M | undefined;
    if (compiled !== undefined) return compiled;
    return tenantModel(base, conn);
  }

  /**
   * Model.db(t).watch() is tracked as poly.watch(t) is: it pins the tenant until closed and closes with close(). Runs
   * for each model a tenant connection compiles. One plain field on the model, not a closure and a defined property per
   * tenant: memory per tenant counts.
   */
  private track(model: unknown, conn: Connection): void {
    if (typeof model !== 'function') return;
    const tracked = model as unknown as { watch: unknown };
    if (tracked.watch === this.trackedWatch || this.wrappedStatics.has(tracked.watch as object)) return;
    if (Object.hasOwn(tracked, 'watch')) {
      // A schema static named watch: wrap that one.
      const own = tracked.watch as (...a: unknown[]) => ClosableStream;
      const { trackStream, connections } = this;
      const wrapped = (...args: unknown[]) => {
        const stream = own.apply(model, args);
        const tenant = connections.tenantOf(conn);
        if (tenant !== undefined) trackStream(tenant, stream);
        return stream;
      };
      this.wrappedStatics.add(wrapped);
      tracked.watch = wrapped;
    } else if (typeof tracked.watch === 'function') {
      tracked.watch = this.trackedWatch;
    }
  }

  /**
   * Wraps a Mongoose model so it serves every tenant.
   *
   * @example
   * const User = m.wrapModel(mongoose.model('User', userSchema));
   * const users = await User.db('acme').find();
   */
  wrapModel<M extends AnyModel>(base: M): WrappedModel<M> {
    assertModel(base);
    const adapter = this;
    const dbFn = (tenant?: string | null) => adapter.model(base, tenant);
    return new Proxy(base, {
      get(target, prop) {
        if (prop === 'db') return dbFn;
        if (prop === '__polymongoBase') return target;
        const model = adapter.model(target, undefined);
        const value = Reflect.get(model, prop, model);
        // Statics run on the tenant model, so `this` inside them is that model.
        return typeof value === 'function' && !isClass(value) ? value.bind(model) : value;
      },
      construct(target, args) {
        return Reflect.construct(adapter.model(target, undefined), args);
      },
      apply(target, thisArg, args) {
        return Reflect.apply(adapter.model(target, undefined) as unknown as (...a: unknown[]) => unknown, thisArg, args);
      },
    }) as WrappedModel<M>;
  }

  /** Frees a tenant's Mongoose connection and models, and its native handles. */
  evict(tenant: string): boolean {
    // The core emits tenantEvicted, which releases the tenant's Mongoose connection too.
    return this.poly.evict(this.poly.route(tenant).tenantId);
  }

  /** Tenant Mongoose connections currently cached. */
  get cachedTenants(): number {
    return this.connections.size;
  }

  /** Closes the native client if this adapter created it. */
  async close(options?: { timeoutMS?: number }): Promise<void> {
    if (this.ownsPoly) await this.poly.close(options);
  }
}

/** Throws INVALID_MODEL unless `model` is a compiled Mongoose model (1.x rejected the same inputs at wrapModel). */
export function assertModel(model: unknown): void {
  const m = model as { modelName?: unknown; schema?: unknown } | null | undefined;
  if ((typeof m === 'function' || (typeof m === 'object' && m !== null)) && typeof m.modelName === 'string' && m.schema) return;
  const what = m === null ? 'null' : typeof m === 'function' || typeof m === 'object' ? 'an object without modelName or schema' : typeof m;
  throw new InvalidModelError(what);
}

/** Fails at once, not with a 10 s buffering timeout, when the pools' MongoClient is not of Mongoose's driver copy. */
function assertOneDriver(Used: abstract new (...args: never[]) => unknown, mongoose: Mongoose): void {
  const Client = mongoose.mongo?.MongoClient;
  if (!Client || Used === Client || Used.prototype instanceof Client) return;
  throw new DriverMismatchError(
    `The PolyMongo client was built from one copy of the mongodb driver (the one @polymongo/native resolves), while Mongoose ${mongoose.version} uses another (mongoose.mongo).`,
  );
}

function isClass(fn: unknown): boolean {
  return typeof fn === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/**
 * Creates the Mongoose adapter: pass `{ poly }` to share a native client's pools, or PolyMongo options to create one.
 *
 * @example
 * const poly = createPolyMongo({ uri });
 * const m = createMongooseAdapter({ poly });
 * const User = m.wrapModel(mongoose.model('User', userSchema));
 * await User.db('acme').create({ name: 'Ada' });
 */
export function createMongooseAdapter(options: MongooseAdapterOptions | (NativeOptions & { mongoose?: Mongoose })): MongooseAdapter {
  const mongoose = options.mongoose ?? defaultMongoose;
  if ('poly' in options && options.poly instanceof PolyMongo) return new MongooseAdapter(options.poly, mongoose, false);
  const { mongoose: _m, ...native } = options as NativeOptions & { mongoose?: Mongoose };
  // Pools built from Mongoose's own driver copy, so its setClient accepts them whatever copy native resolves.
  return new MongooseAdapter(createPolyMongo({ mongodb: mongoose.mongo, ...native }), mongoose, true);
}
