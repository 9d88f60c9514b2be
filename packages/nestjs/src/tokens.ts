/** The injection token of the PolyMongo client (`@InjectPolyMongo()` injects it). */
export const POLYMONGO = Symbol.for('polymongo:nestjs:client');
/** Internal: the module's resolved tenant options and whether it created (and so closes) the client. */
export const POLYMONGO_MODULE_OPTIONS = Symbol.for('polymongo:nestjs:options');
