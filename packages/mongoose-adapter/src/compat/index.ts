import type { WrapperOptions } from './options.js';
import { PolyMongoWrapper } from './PolyMongoWrapper.js';

export type { ScaleOptions, WrapperOptions } from './options.js';
export {
  type LegacyConnectionState,
  type LegacyDbStats,
  type LegacyGeneralStats,
  type LegacyPoolStats,
  type LegacyStats,
  PolyMongoWrapper,
  type WrapperEvent,
  type WrapperEventPayload,
} from './PolyMongoWrapper.js';

/**
 * The PolyMongo 1.x entry point. A 1.x app migrates by changing its import:
 *
 * @example
 * import PolyMongo from '@polymongo/mongoose/compat';   // was: import PolyMongo from 'polymongo'
 * const wrapper = PolyMongo.createWrapper({ mongoURI: process.env.MONGODB_URI!, maxPoolSize: 10 });
 * const User = wrapper.wrapModel(mongoose.model('User', userSchema));
 * await User.db('tenant_1').find();
 */
const PolyMongo = {
  createWrapper(options: WrapperOptions): PolyMongoWrapper {
    return new PolyMongoWrapper(options);
  },
};

export default PolyMongo;
