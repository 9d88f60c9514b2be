import { describe, expect, test } from 'vitest';
import { ConfigError, resolveConfig } from '../src/index.js';

const URI = 'mongodb://127.0.0.1:27017';

describe('fairness and quota options', () => {
  test('are off unless given', () => {
    const c = resolveConfig({ uri: URI });
    expect(c.fairness).toBeUndefined();
    expect(c.quotas).toBeUndefined();
  });

  test('fairness fields left out take their documented defaults', () => {
    expect(resolveConfig({ uri: URI, fairness: {} }).fairness).toEqual({
      maxConcurrentPerTenant: 10,
      maxQueuedPerTenant: 100,
      queueTimeoutMS: 5_000,
    });
  });

  test('rejects a bad limit and a weight that is not a function, naming each field', () => {
    try {
      resolveConfig({ uri: URI, fairness: { maxConcurrentPerTenant: 0, weight: 2 }, quotas: { opsPerSecond: -1 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const paths = (error as ConfigError).issues.map((i) => i.path);
      expect(paths).toEqual(expect.arrayContaining(['fairness.maxConcurrentPerTenant', 'fairness.weight', 'quotas.opsPerSecond']));
    }
  });
});
