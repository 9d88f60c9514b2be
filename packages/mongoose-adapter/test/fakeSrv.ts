import dns from 'node:dns';

// A first connect can fail before the MongoClient has a topology: a mongodb+srv URI whose DNS lookup fails (DNS not
// up yet as the application starts). DNS is stubbed here: the 7.x driver's `resolve(name, type)`, the 6.x driver's
// `resolveSrv`/`resolveTxt`, and `lookup` (what net.connect uses), which sends every host name to 127.0.0.1.

const real = {
  resolve: dns.promises.resolve,
  resolveSrv: dns.promises.resolveSrv,
  resolveTxt: dns.promises.resolveTxt,
  lookup: dns.lookup,
};

export const SRV_URI = 'mongodb+srv://cluster0.pm.example/?tls=false&serverSelectionTimeoutMS=2000';

/** DNS for cluster0.pm.example: ENOTFOUND while `up` is false, then one SRV record to `port` of 127.0.0.1. */
export function fakeSrv(port: number): { up: boolean } {
  const state = { up: false };
  const answer = async (name: string, type: string) => {
    if (!state.up) throw Object.assign(new Error(`query ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    if (type === 'SRV') return [{ name: 'node1.pm.example', port, priority: 0, weight: 0 }];
    return [['']];
  };
  Object.assign(dns.promises, {
    resolve: answer,
    resolveSrv: (name: string) => answer(name, 'SRV'),
    resolveTxt: (name: string) => answer(name, 'TXT'),
  });
  dns.lookup = ((_host: string, options: unknown, cb?: (...args: unknown[]) => void) => {
    const callback = (typeof options === 'function' ? options : cb) as (...args: unknown[]) => void;
    const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
    process.nextTick(() => (all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)));
  }) as typeof dns.lookup;
  return state;
}

export function restoreDns(): void {
  Object.assign(dns.promises, { resolve: real.resolve, resolveSrv: real.resolveSrv, resolveTxt: real.resolveTxt });
  dns.lookup = real.lookup;
}
