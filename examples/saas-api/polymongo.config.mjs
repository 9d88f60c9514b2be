// The `polymongo` CLI against the demo's tenants (see the README's "Fleet operations and the CLI"):
//   MONGODB_URI=<the demo's server> node ../../packages/cli/bin/polymongo.js tenants list
export default {
  // The demo registers its tenants in saas_control.tenants.
  discover: { tenant: 'saas_control', collection: 'tenants' },
  indexes: [
    { collection: 'events', indexes: [{ key: { at: -1 }, name: 'recent_first' }, { key: { type: 1, at: -1 } }] },
    { collection: 'users', indexes: [{ key: { email: 1 }, unique: true }] },
  ],
  validators: [
    {
      collection: 'users',
      validator: { $jsonSchema: { bsonType: 'object', required: ['name', 'email'], properties: { email: { bsonType: 'string' } } } },
    },
  ],
  migrations: [
    {
      id: '2026-11-23-user-status',
      up: ({ db, session }) =>
        db.collection('users').updateMany({ status: { $exists: false } }, { $set: { status: 'active' } }, { session }),
      down: ({ db, session }) => db.collection('users').updateMany({}, { $unset: { status: '' } }, { session }),
    },
  ],
};
