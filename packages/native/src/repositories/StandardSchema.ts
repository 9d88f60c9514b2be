/**
 * The Standard Schema interface (https://standardschema.dev), copied as its authors intend so that no package is
 * needed for it: zod 3.24+ and 4, valibot, arktype and others implement it. Any such validator can back a repository.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaProps<Input, Output>;
}

export interface StandardSchemaProps<Input = unknown, Output = Input> {
  readonly version: 1;
  readonly vendor: string;
  readonly validate: (value: unknown) => StandardResult<Output> | Promise<StandardResult<Output>>;
  readonly types?: { readonly input: Input; readonly output: Output } | undefined;
}

export type StandardResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<StandardIssue> };

export interface StandardIssue {
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The input type of a Standard Schema validator. */
export type SchemaInput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['input'];
/** The output type of a Standard Schema validator. */
export type SchemaOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

/** One validation problem, with its path as plain keys. */
export interface ValidationIssue {
  readonly path: PropertyKey[];
  readonly message: string;
}

export type Checked = { ok: true; value: unknown } | { ok: false; issues: ValidationIssue[] };

/** Runs a validator (sync or async) and normalises its issues. */
export async function check(schema: StandardSchemaV1, value: unknown): Promise<Checked> {
  let result = schema['~standard'].validate(value);
  if (result instanceof Promise) result = await result;
  if (result.issues) return { ok: false, issues: result.issues.map(toIssue) };
  return { ok: true, value: result.value };
}

function toIssue(issue: StandardIssue): ValidationIssue {
  const path = (issue.path ?? []).map((s) => (typeof s === 'object' && s !== null && 'key' in s ? s.key : s));
  return { path, message: issue.message };
}

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  const props = (value as { '~standard'?: { validate?: unknown } } | null)?.['~standard'];
  return typeof props?.validate === 'function';
}
