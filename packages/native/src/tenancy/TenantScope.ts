import type { AdapterHost, Route } from '@polymongo/core';
import type { Collection, Db, Document } from 'mongodb';
import type { NativePool } from '../driver/MongoDriverPort.js';
import type { RepositoryDefinition } from '../repositories/defineRepository.js';
import { Repository } from '../repositories/Repository.js';

/**
 * Everything of one tenant: its id, database name, `Db`, collections and repositories.
 *
 * @example
 * const acme = poly.tenant('acme');
 * await acme.collection('orders').insertOne({ total: 10 });
 * const users = acme.repo(Users);
 */
export class TenantScope {
  readonly id: string;
  readonly dbName: string;
  readonly db: Db;

  constructor(
    private readonly host: AdapterHost<NativePool, Db>,
    readonly route: Route,
    db: Db,
  ) {
    this.id = route.tenantId;
    this.dbName = route.dbName;
    this.db = db;
  }

  collection<T extends Document = Document>(name: string): Collection<T> {
    return this.db.collection<T>(name);
  }

  repo<Def extends RepositoryDefinition>(definition: Def): Repository<Def> {
    return new Repository(this.host, this.route, this.db, definition);
  }
}
