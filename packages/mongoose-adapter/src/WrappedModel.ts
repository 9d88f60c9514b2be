import type { Connection, Model } from 'mongoose';

// biome-ignore lint/suspicious/noExplicitAny: a Mongoose model of any document type
export type AnyModel = Model<any, any, any, any, any, any>;

/**
 * A Mongoose model that serves every tenant: `.db(tenant)` is the model bound to that tenant's database, and every
 * other static (`find`, `create`, `aggregate`, `watch`, ...) runs on the tenant of the current `runWithTenant`,
 * else the default tenant.
 *
 * @example
 * const User = m.wrapModel(mongoose.model('User', userSchema));
 * await User.db('acme').find().lean();
 * await runWithTenant('acme', () => User.create({ name: 'Ada' }));
 */
export type WrappedModel<M extends AnyModel> = M & {
  db(tenant?: string | null): M;
};

/** Compiles (once per tenant connection) the tenant's copy of a base model, with its discriminators. */
export function tenantModel<M extends AnyModel>(base: M, conn: Connection): M {
  const existing = conn.models[base.modelName] as M | undefined;
  if (existing) return existing;
  const model = conn.model(base.modelName, base.schema, base.collection.collectionName) as unknown as M;
  for (const [name, discriminator] of Object.entries(base.discriminators ?? {})) {
    if (model.discriminators?.[name]) continue;
    const value = (discriminator as unknown as { discriminatorMapping?: { value?: string } }).discriminatorMapping?.value;
    model.discriminator(name, discriminator.schema, value === undefined ? undefined : { value });
  }
  return model;
}
