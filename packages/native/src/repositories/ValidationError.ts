import { PolyMongoError } from '@polymongo/core';
import type { ValidationIssue } from './StandardSchema.js';

const BYPASS = 'To write it anyway, deliberately: pass { validate: false } to this call, or define the repository with validate: false.';

/** A write failed its repository's schema, or used an operator the repository cannot validate; nothing was written. */
export class ValidationError extends PolyMongoError {
  readonly issues: ValidationIssue[];

  constructor(collection: string, operation: string, issues: ValidationIssue[]) {
    const list = issues
      .slice(0, 5)
      .map((i) => `${i.path.map(String).join('.') || '(document)'}: ${i.message}`)
      .join('; ');
    super(
      'VALIDATION_FAILED',
      `${operation} on "${collection}" was refused: ${list}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}. Nothing was written. ${BYPASS}`,
    );
    this.issues = issues;
  }
}
