import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, test, vi } from 'vitest';
import { PolyMongoCore } from '../src/client/PolyMongoCore.js';
import {
  backoffDelay,
  CloseTimeoutError,
  type ConnectionState,
  classifyError,
  PolyMongoError,
  type PolyMongoOptions,
} from '../src/index.js';
import { authError, FakePort, networkError } from './fakePort.js';

const URI = 'mongodb://app:hunter2@127.0.0.1:27017';
function setup(options: Partial<PolyMongoOptions> = {}) {
  const port = new FakePort();
  const core = new PolyMongoCore(
    { uri: URI, logger: { level: 'silent' }, retry: { attempts: 4, initialDelayMS: 5, maxDelayMS: 20 }, ...options },
    port,
  );
  const states: ConnectionState[] = [];
  core.on('stateChange', (e) => {
    if (e.scope === 'client') states.push(e.to);
  });
  return { port, core, states };
}

describe('connecting', () => {
  test('retries retryable errors with backoff, then connects', async () => {
    const { port, core, states } = setup();
    port.behaviour = async (_pool, attempt) => {
      if (attempt < 3) throw networkError();
    };
    await core.connect();
    expect(port.connectCalls).toBe(3);
    expect(states).toEqual(['connecting', 'retrying', 'connected']);
  });

  test('stops at once on an authentication failure: auth_failed with AUTH_FAILED and no password', async () => {
    const { port, core, states } = setup();
    port.behaviour = async () => {
      throw authError();
    };
    const errors: Error[] = [];
    core.on('error', (e) => errors.push(e.error));
    const err = await core.connect().catch((e) => e);
    expect(err).toBeInstanceOf(PolyMongoError);
    expect(err.code).toBe('AUTH_FAILED');
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('app:***@');
    expect(port.connectCalls).toBe(1);
    expect(states).toEqual(['connecting', 'auth_failed']);
    expect(errors).toHaveLength(1);
  });

  test('an auth_failed pool is tried again: once the credentials work, new tenants and connect() succeed on the same pool', async () => {
    const { port, core, states } = setup();
    port.behaviour = async () => {
      throw authError();
    };
    await expect(core.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    // Still wrong: a new tenant gets its handle (operations fail with the driver's own error), connect() says why.
    expect(core.acquire('x').pool.state).toBe('auth_failed');
    await expect(core.connect()).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    port.behaviour = async () => undefined;
    await core.connect();
    expect(core.acquire('y').pool.state).toBe('connected');
    expect(port.created).toHaveLength(1);
    expect(states).toEqual(['connecting', 'auth_failed', 'connecting', 'auth_failed', 'connecting', 'connected']);
  });

  test('gives up after retry.attempts with CONNECTION_FAILED, and a later use tries again', async () => {
    const { port, core, states } = setup();
    port.behaviour = async () => {
      throw networkError();
    };
    const err = await core.connect().catch((e) => e);
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(port.connectCalls).toBe(4);
    expect(states.at(-1)).toBe('failed');
    port.behaviour = async () => undefined;
    core.acquire('x');
    await expect.poll(() => core.state).toBe('connected');
  });

  test('a failed pool is tried again when a cached tenant is used, at most once a second', async () => {
    // Only the clock core reads for the rate limit is faked (expect.poll needs real timers).
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const { port, core } = setup({ retry: { attempts: 1, initialDelayMS: 5, maxDelayMS: 20 } });
      port.behaviour = async () => {
        throw networkError();
      };
      core.acquire('cached');
      await expect.poll(() => core.state).toBe('failed');
      expect(port.connectCalls).toBe(1);
      // Within the second after the failure, uses of the cached tenant send nothing.
      for (let i = 0; i < 5; i++) core.acquire('cached');
      expect(port.connectCalls).toBe(1);
      vi.advanceTimersByTime(1000);
      port.behaviour = async () => undefined;
      core.acquire('cached');
      core.acquire('cached'); // the attempt under way is shared
      expect(port.connectCalls).toBe(2);
      await expect.poll(() => core.state).toBe('connected');
    } finally {
      vi.useRealTimers();
    }
  });

  test('a fatal error is not retried', async () => {
    const { port, core } = setup();
    port.behaviour = async () => {
      throw Object.assign(new Error('bad option'), { name: 'MongoParseError' });
    };
    const err = await core.connect().catch((e) => e);
    expect(err.code).toBe('CONNECTION_FAILED');
    expect(port.connectCalls).toBe(1);
  });

  test('backoff uses full jitter under an exponential ceiling', () => {
    const policy = { attempts: 10, initialDelayMS: 100, maxDelayMS: 1000 };
    expect(backoffDelay(policy, 1, () => 0.999)).toBe(99);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(200);
    expect(backoffDelay(policy, 10, () => 0.999)).toBe(999);
    expect(backoffDelay(policy, 4, () => 0)).toBe(0);
  });
});

describe('classifyError', () => {
  test.each<[string, unknown, string]>([
    ['network errors', networkError(), 'retryable'],
    ['server selection timeouts', Object.assign(new Error('x'), { name: 'MongoServerSelectionError' }), 'retryable'],
    ['NotWritablePrimary', Object.assign(new Error('x'), { code: 10107 }), 'retryable'],
    ['the RetryableError label', Object.assign(new Error('x'), { errorLabels: ['RetryableError'] }), 'retryable'],
    ['the ResetPool label', Object.assign(new Error('x'), { hasErrorLabel: (l: string) => l === 'ResetPool' }), 'retryable'],
    ['ECONNREFUSED', Object.assign(new Error('x'), { code: 'ECONNREFUSED' }), 'retryable'],
    ['authentication failures', authError(), 'auth'],
    [
      'authentication failures wrapped in server selection',
      Object.assign(new Error('x'), { name: 'MongoServerSelectionError', cause: authError() }),
      'auth',
    ],
    ['bad URIs', Object.assign(new Error('x'), { name: 'MongoParseError' }), 'fatal'],
    ['unknown errors', new Error('what'), 'fatal'],
  ])('%s', (_label, error, expected) => {
    expect(classifyError(error)).toBe(expected);
  });
});

describe('closing', () => {
  test('close lets in-flight operations finish, refuses new ones, and closes every pool', async () => {
    const { port, core, states } = setup();
    core.acquire('a');
    await core.connect();
    const pool = port.created[0];
    if (!pool) throw new Error('no pool');
    pool.numbers = { open: 2, inUse: 2, available: 0, waiting: 1 };
    const closing = core.close({ timeoutMS: 2000 });
    expect(() => core.acquire('a')).toThrow(expect.objectContaining({ code: 'CLIENT_CLOSED' }));
    await delay(30);
    expect(pool.closed).toBe(false);
    pool.numbers = { open: 2, inUse: 0, available: 2, waiting: 0 };
    await closing;
    expect(pool.closed).toBe(true);
    expect(pool.forced).toBe(false);
    expect(states.slice(-2)).toEqual(['disconnecting', 'closed']);
  });

  test('close gives up waiting after timeoutMS, forces the pools closed and rejects with CLOSE_TIMEOUT', async () => {
    const { port, core } = setup();
    core.acquire('a');
    const pool = port.created[0];
    if (!pool) throw new Error('no pool');
    pool.numbers = { open: 1, inUse: 1, available: 0, waiting: 0 };
    await expect(core.close({ timeoutMS: 30 })).rejects.toBeInstanceOf(CloseTimeoutError);
    await expect(core.close()).rejects.toMatchObject({ code: 'CLOSE_TIMEOUT' });
    expect(core.state).toBe('closed');
    expect(pool.closed).toBe(true);
    expect(pool.forced).toBe(true);
  });

  test('close and forceClose are safe to call twice, in any order', async () => {
    const { core } = setup();
    core.acquire('a');
    await Promise.all([core.close(), core.close(), core.forceClose()]);
    await core.close();
    await core.forceClose();
    expect(core.state).toBe('closed');
  });

  test('close runs close hooks (streams) before draining', async () => {
    const { core } = setup();
    const order: string[] = [];
    core.onClose(() => {
      order.push('streams closed');
    });
    core.on('poolClosed', () => order.push('pool closed'));
    core.acquire('a');
    await core.close();
    expect(order).toEqual(['streams closed', 'pool closed']);
  });

  test('shutdown signals are opt-in, close gracefully and never exit the process', async () => {
    const before = process.listenerCount('SIGTERM');
    const { core: quiet } = setup();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    await quiet.close();
    const { core } = setup({ shutdown: { signals: ['SIGTERM'], timeoutMS: 100 } });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    core.acquire('a');
    process.emit('SIGTERM', 'SIGTERM');
    await expect.poll(() => core.state).toBe('closed');
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});

describe('ping timeoutMS', () => {
  test('a timeoutMS below 1 ms or not a whole number is CONFIG_INVALID, and a connected pool stays connected', async () => {
    const { core } = setup();
    await core.connect();
    for (const timeoutMS of [0, -5, 1.5, Number.NaN, '100' as unknown as number]) {
      await expect(core.ping({ timeoutMS })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    }
    expect(core.state).toBe('connected');
    expect(await core.ping({ timeoutMS: 1000 })).toBeGreaterThanOrEqual(0);
  });
});
