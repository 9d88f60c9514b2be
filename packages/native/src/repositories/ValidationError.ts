import { PolyMongoError } from '@polymongo/core';
import type { z } from 'zod';

/** A document failed its repository's zod schema; nothing was written. `issues` are zod's. */
export class ValidationError extends PolyMongoError {
  readonly issues: z.core.$ZodIssue[];

  constructor(collection: string, operation: string, issues: z.core.$ZodIssue[]) {
    const list = issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || '(document)'}: ${i.message}`)
      .join('; ');
    super(
      'VALIDATION_FAILED',
      `${operation} on "${collection}" was refused: ${list}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}. Fix the document; nothing was written.`,
    );
    this.issues = issues;
  }
}
