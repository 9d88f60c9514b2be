import type { Document } from 'bson';
import { Aggregator, ProcessingMode } from 'mingo';
import { viewOf } from './commands/namespace.js';
import type { CommandContext } from './context.js';
import { withMingo } from './query.js';
import { promote, promoted } from './storage/bsonValues.js';

/**
 * Runs a pipeline over stored documents; `$lookup` and `$unionWith` read other collections of the same database.
 * mingo computes on numbers, so the output's numbers are typed by value (int32 when whole, else double).
 */
export function runPipeline(ctx: CommandContext, source: Document[], pipeline: Document[], variables?: Document): Document[] {
  const resolver = (name: string) => {
    const other = viewOf(ctx, name, false);
    return other ? [...other.values()].map(promoted) : [];
  };
  return withMingo(() =>
    new Aggregator(pipeline, {
      collectionResolver: resolver,
      processingMode: ProcessingMode.CLONE_INPUT,
      ...(variables ? { variables: promote(variables) as Document } : {}),
    }).run(source.map(promoted)),
  );
}
