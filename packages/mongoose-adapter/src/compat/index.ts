import type { AnyModel, WrappedModel } from '../WrappedModel.js';
import type { ScaleOptions, WrapperOptions } from './options.js';
import {
  type LegacyConnectionState,
  type LegacyDbStats,
  type LegacyGeneralStats,
  type LegacyPoolStats,
  PolyMongoWrapper,
  type WrapperEvent,
  type WrapperEventPayload,
} from './PolyMongoWrapper.js';

/**
 * The PolyMongo 1.x entry point. A 1.x app migrates by changing its import or require:
 *
 * @example
 * const PolyMongo = require('@polymongo/mongoose/compat');   // was: require('polymongo')
 * import PolyMongo from '@polymongo/mongoose/compat';         // was: import PolyMongo from 'polymongo'
 * const wrapper = PolyMongo.createWrapper({ mongoURI: process.env.MONGODB_URI!, maxPoolSize: 10 });
 * const User = wrapper.wrapModel(mongoose.model('User', userSchema));
 * await User.db('tenant_1').find();
 */
// A module-level name, so the bundled .d.ts does not read the namespace's WrappedModel as referring to itself.
type TenantModel<M extends AnyModel> = WrappedModel<M>;

class PolyMongo extends PolyMongoWrapper {
  /** 1.3's type-discovery placeholder: use `PolyMongo.Types.*` in type positions only. */
  static readonly Types: Readonly<Record<string, never>> = Object.freeze({});
  /** The wrapper class (the same as `PolyMongo` itself for `instanceof`). */
  static readonly PolyMongoWrapper = PolyMongoWrapper;
  /** `require('@polymongo/mongoose/compat').default` for code compiled with ESM interop. */
  static readonly default: typeof PolyMongo = PolyMongo;

  /** Creates a wrapper, as 1.x `PolyMongo.createWrapper(options)`. */
  static createWrapper(options: WrapperOptions): PolyMongo {
    return new PolyMongo(options);
  }
}

// 1.3 exposes its types as PolyMongo.Types.*; a namespace merged with the class keeps that
declare namespace PolyMongo {
  type Options = WrapperOptions;
  type Wrapper = PolyMongo;
  type Scale = ScaleOptions;
  type Event = WrapperEvent;
  type EventPayload = WrapperEventPayload;
  type ConnectionState = LegacyConnectionState;
  type GeneralStats = LegacyGeneralStats;
  type DbStats = LegacyDbStats;
  type PoolStats = LegacyPoolStats;
  namespace Types {
    type Options = WrapperOptions;
    type wrapperOptions = WrapperOptions;
    type EventName = WrapperEvent;
    type eventName = EventName;
    type ConnectEvent = WrapperEventPayload;
    type DisconnectEvent = WrapperEventPayload;
    type ErrorEvent = WrapperEventPayload;
    type ConnectionStats = LegacyGeneralStats;
    type stats = ConnectionStats;
    type DBConfig = ScaleOptions;
    type dbConfig = DBConfig;
    type WrappedModel<M extends AnyModel> = TenantModel<M>;
  }
}

export default PolyMongo;
