import { type MongoClient, MongoServerSelectionError, type TopologyDescription } from 'mongodb';

/**
 * How PolyMongo opens a pool's MongoClient, so that no operation ever fails with "Topology is closed" while the
 * client is open.
 *
 * The driver's `connect()` closes the topology it is opening when that fails: its first server selection timed out
 * (server unreachable), or the ping it sends after selection failed (wrong credentials). But every operation issued
 * meanwhile is already queued on that topology (the driver sets `client.topology` as the connect starts), so it is
 * rejected with `MongoTopologyClosedError` instead of its own cause; and an operation that starts after an earlier
 * one failed with the real cause can still be queued on a topology whose connect has not failed yet (the sequential
 * "Topology is closed" seen with wrong credentials). Closing the topology is the whole problem, so the topology
 * PolyMongo opens is never closed by a failed open:
 * - its first server selection has no time limit: each operation keeps its own `serverSelectionTimeoutMS`, so it
 *   fails with a server selection error that names the unreachable host, and succeeds once the server is up;
 * - a failed connect check (the driver's ping, e.g. a wrong password) does not close it: the topology stays, with
 *   its monitors, and each operation fails with the server's own authentication error (code 18) until the
 *   credentials work, then succeeds.
 * A caller of `connect()` still waits at most `serverSelectionTimeoutMS`, then gets a server selection error while
 * the topology stays and keeps probing. `client.connect()` itself (the application's, or the driver's auto-connect
 * after an idle close) goes through here too.
 *
 * Relies on driver-internal fields (`client.topology`, `topology.close`, `topology.s.state`, the
 * `serverSelectionTimeoutMS` option read by `Topology.connect`), the same in driver 6.x and 7.x; the native fault
 * tests pin the behaviour.
 */
export interface TopologyOpener {
  /**
   * Opens the client's topology, or joins the open under way; rejects after `serverSelectionTimeoutMS`. Resolves
   * `true` when that open checked what a connect must (the server selected, and with credentials or a load balancer
   * a connection checked out: the driver's ping), `false` when it did not (the topology was already there, or the
   * driver's auto-connect opened it without a ping).
   */
  open(): Promise<boolean>;
  /** Operations waiting on the topology for a server (not yet holding or waiting for a connection). */
  selecting(): number;
}

interface MutableOptions {
  serverSelectionTimeoutMS: number;
  /** Set by the driver's auto-connect: its open checks out no connection. */
  __skipPingOnConnect?: boolean;
  /** Set when the client authenticates (a user name, or a mechanism such as X.509). */
  credentials?: unknown;
  loadBalanced?: boolean;
}

interface InternalTopology {
  isConnected(): boolean;
  close(): void;
  description: TopologyDescription;
  s?: { state?: unknown };
  waitQueue?: Iterable<{ operationName?: string; cancelled?: boolean }> & { length?: unknown };
}

export type SelectionErrorClass = new (message: string, reason: TopologyDescription) => Error;

/** Takes over `client.connect()`; call once, right after the client is made. */
export function ownTopology(client: MongoClient, SelectionError: SelectionErrorClass = MongoServerSelectionError): TopologyOpener {
  const internal = client as unknown as { topology?: InternalTopology; options: MutableOptions; s: { hasBeenClosed?: boolean } };
  const driverConnect = client.connect.bind(client);
  const selectionMS = internal.options.serverSelectionTimeoutMS;
  // What an open must check beyond selecting a server. Selection means the driver's monitor reached the server with
  // the client's own host, TLS and timeouts; a pool connection adds only authentication (and, behind a load
  // balancer, which has no monitor, reachability). Without either, the driver 6.x's own connect checked nothing more,
  // and checking anyway costs the application's first operation a second connection: it is queued on the topology
  // too, and the pool opens a connection for it while the check's own is still being made.
  const connectionChecks = internal.options.credentials != null || internal.options.loadBalanced === true;
  let opening: Promise<unknown> | undefined;
  let openingChecks = false;
  // What the open under way does when the driver makes its topology. One listener for the client's life, rather than
  // one added and removed per open: the first removeListener of a process costs a cold start about 0.1 ms.
  let onOpening: (() => void) | undefined;
  client.on('topologyOpening', () => onOpening?.());

  // A topology that a failed open left open (state still `connecting`): usable, and not to be replaced.
  const live = (topology: InternalTopology | undefined): topology is InternalTopology =>
    topology !== undefined && topology !== null && topology.s?.state !== 'closed';

  const start = (): Promise<unknown> => {
    const options = internal.options;
    openingChecks = options.__skipPingOnConnect !== true;
    // Read by Topology.connect once it selected a server: left set until this open settles.
    const skipCheck = openingChecks && !connectionChecks;
    if (skipCheck) options.__skipPingOnConnect = true;
    // Read synchronously by Topology.connect as it starts; restored as soon as the topology exists.
    options.serverSelectionTimeoutMS = 0;
    let restored = false;
    const restore = () => {
      if (restored) return;
      restored = true;
      if (onOpening === opened) onOpening = undefined;
      options.serverSelectionTimeoutMS = selectionMS;
    };
    let guarded: InternalTopology | undefined;
    const opened = () => {
      // A mongodb+srv URI's TXT record can set loadBalanced=true, known only now (after the DNS lookups, before the
      // driver selects a server): behind a load balancer selection reaches nothing, so the open checks a connection.
      if (skipCheck && options.loadBalanced === true) delete options.__skipPingOnConnect;
      guarded = internal.topology;
      if (guarded) keepOpenOnFailure(guarded);
      // A promise job rather than queueMicrotask, whose first call sets up an AsyncResource (start-up time).
      void Promise.resolve().then(restore);
    };
    // While this open is under way, the driver's close of a failed open is skipped; any other close (the client's
    // close(), an idle suspend, which unset `client.topology` first) goes through.
    const keepOpenOnFailure = (topology: InternalTopology) => {
      const close = topology.close;
      topology.close = function closeUnlessFailedOpen(this: InternalTopology) {
        if (opening !== undefined && internal.topology === topology && !internal.s.hasBeenClosed) return;
        close.call(this);
      };
    };
    onOpening = opened;
    const before = internal.topology;
    let attempt: Promise<unknown>;
    try {
      attempt = driverConnect();
    } catch (error) {
      restore();
      if (skipCheck) delete options.__skipPingOnConnect;
      throw error;
    }
    // With a plain host list the topology exists by now; SRV or TLS files make the driver wait first.
    if (internal.topology && internal.topology !== before) restore();
    const settle = () => {
      restore();
      if (skipCheck) delete options.__skipPingOnConnect;
      opening = undefined;
      if (guarded) delete (guarded as Partial<InternalTopology>).close;
    };
    attempt.then(settle, settle);
    return attempt;
  };

  const open = async (): Promise<boolean> => {
    if (opening === undefined && live(internal.topology)) return false;
    opening ??= start();
    const pending = opening;
    const checks = openingChecks;
    if (!(selectionMS > 0)) {
      await pending;
      return checks;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(selectionError(internal.topology, selectionMS, SelectionError)), selectionMS);
        }),
      ]);
      return checks;
    } finally {
      clearTimeout(timer);
    }
  };

  client.connect = async () => {
    await open();
    return client;
  };

  return {
    open,
    selecting: () => {
      const queue = internal.topology?.waitQueue;
      if (queue === undefined || queue.length === 0) return 0;
      let n = 0;
      // The topology's own first selection ('handshake') is no operation of the application's.
      for (const request of queue) if (!request.cancelled && request.operationName !== 'handshake') n += 1;
      return n;
    },
  };
}

/** The error an operation's own server selection would give: the driver's class, naming the server's failure. */
function selectionError(topology: InternalTopology | undefined, ms: number, SelectionError: SelectionErrorClass): Error {
  const description = topology?.description;
  let cause = '';
  for (const [address, server] of description?.servers ?? []) {
    const error = (server as { error?: { message?: string } | null }).error;
    if (error?.message) {
      cause = ` (${address}: ${error.message})`;
      break;
    }
  }
  const message = `Server selection timed out after ${ms} ms${cause}`;
  return description ? new SelectionError(message, description) : Object.assign(new Error(message), { name: 'MongoServerSelectionError' });
}
