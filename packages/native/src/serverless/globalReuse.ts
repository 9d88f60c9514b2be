/**
 * `reuse: 'global'`: one client per distinct options across module reloads in one process (Next.js dev hot
 * reload, warm AWS Lambda invocations). The registry lives on `globalThis` under a `Symbol.for` key, so a second
 * copy of this module (a bundler's reload, ESM beside CJS) finds the clients the first one made.
 */
const REGISTRY = Symbol.for('polymongo.native.globalClients');

interface Reusable {
  readonly state: string;
}

function registry(): Map<string, Reusable> {
  const holder = globalThis as { [REGISTRY]?: Map<string, Reusable> };
  holder[REGISTRY] ??= new Map();
  return holder[REGISTRY];
}

/**
 * The identity of a set of options: their values, not the object. Keys are sorted; functions count by their
 * source text (a reloaded module re-creates them, same text); class instances (a logger, a token store) by their
 * class name and own enumerable values. Two option objects with the same key share one client.
 */
export function optionsKey(options: unknown): string {
  const seen = new WeakSet<object>();
  // The driver module (`mongodb: mongoose.mongo`) counts by identity: walking it would stringify the whole driver.
  const driver = (options as { mongodb?: unknown } | null)?.mongodb;
  if (driver !== undefined && driver !== null && typeof driver === 'object') {
    const { mongodb: _driver, ...rest } = options as Record<string, unknown>;
    return `${identityOf(driver)}|${optionsKey(rest)}`;
  }
  const walk = (value: unknown): unknown => {
    if (typeof value === 'function') return `fn:${value.toString()}`;
    if (typeof value === 'bigint') return `bigint:${value}`;
    if (value === null || typeof value !== 'object') return value;
    if (seen.has(value)) return '[circular]';
    seen.add(value);
    if (Array.isArray(value)) return value.map(walk);
    if (value instanceof Map) return { map: [...value.entries()].map(([k, v]) => [walk(k), walk(v)]) };
    const proto = Object.getPrototypeOf(value);
    const out: Record<string, unknown> = proto && proto !== Object.prototype ? { '#class': proto.constructor?.name } : {};
    for (const key of Object.keys(value).sort()) out[key] = walk((value as Record<string, unknown>)[key]);
    return out;
  };
  return JSON.stringify(walk(options));
}

const IDENTITIES = Symbol.for('polymongo.native.globalClients.identities');

/** A process-wide number for an object, the same from every copy of this module. */
function identityOf(value: object): string {
  const holder = globalThis as { [IDENTITIES]?: { next: number; ids: WeakMap<object, number> } };
  holder[IDENTITIES] ??= { next: 1, ids: new WeakMap() };
  const registry = holder[IDENTITIES];
  let id = registry.ids.get(value);
  if (id === undefined) {
    id = registry.next++;
    registry.ids.set(value, id);
  }
  return `driver#${id}`;
}

/** The client registered under these options, unless it was closed; else a new one from `create`, registered. */
export function reuseGlobal<T extends Reusable>(options: object, create: () => T): T {
  const key = optionsKey(options);
  const clients = registry();
  const existing = clients.get(key);
  if (existing && existing.state !== 'closed' && existing.state !== 'disconnecting') return existing as T;
  const client = create();
  clients.set(key, client);
  return client;
}
