import type { Document } from 'bson';
import { Aggregator, ProcessingMode } from 'mingo';
import { viewOf } from './commands/namespace.js';
import type { CommandContext } from './context.js';
import { withMingo } from './query.js';

/** Runs a pipeline over a collection; `$lookup` and `$unionWith` read other collections of the same database. */
export function runPipeline(ctx: CommandContext, source: Document[], pipeline: Document[]): Document[] {
  const resolver = (name: string) => {
    const other = viewOf(ctx, name, false);
    return other ? [...other.values()] : [];
  };
  return withMingo(() =>
    new Aggregator(pipeline, { collectionResolver: resolver, processingMode: ProcessingMode.CLONE_INPUT }).run(source),
  );
}
