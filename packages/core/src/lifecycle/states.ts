/** States of a pool and of the client as a whole. */
export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'retrying' | 'auth_failed' | 'failed' | 'disconnecting' | 'closed';

export const CONNECTION_STATES: readonly ConnectionState[] = [
  'idle',
  'connecting',
  'connected',
  'retrying',
  'auth_failed',
  'failed',
  'disconnecting',
  'closed',
];
