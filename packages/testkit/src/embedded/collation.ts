import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './errors.js';

/**
 * Collation for locale `en` (and `simple`), strengths 1–3, as a string transform: strength 1 compares base letters
 * (no case, no accents), strength 2 adds accents, strength 3 (the default) is case-sensitive. Filters and documents
 * are compared through the transform; sorts use the locale's order.
 */
export interface Collation {
  locale: string;
  strength: number;
}

export function parseCollation(spec: unknown): Collation | undefined {
  if (spec === undefined || spec === null) return undefined;
  const { locale, strength = 3 } = spec as Document;
  if (locale === 'simple') return undefined;
  if (typeof locale !== 'string' || !(locale === 'en' || locale.startsWith('en_'))) {
    throw new CommandError(
      ErrorCodes.BadValue,
      `the embedded server supports collation locales 'simple' and 'en', not '${String(locale)}'`,
    );
  }
  if (typeof strength !== 'number' || strength < 1 || strength > 5)
    throw new CommandError(ErrorCodes.BadValue, 'collation strength must be 1 to 5');
  return { locale, strength };
}

function foldString(s: string, strength: number): string {
  if (strength >= 3) return s;
  const lower = s.toLowerCase();
  return strength === 2 ? lower : lower.normalize('NFD').replace(/\p{M}/gu, '');
}

/** A copy of `value` with every string folded for comparison under `collation` (keys and regexes untouched). */
export function foldStrings(value: unknown, collation: Collation): unknown {
  if (collation.strength >= 3) return value;
  if (typeof value === 'string') return foldString(value, collation.strength);
  if (Array.isArray(value)) return value.map((v) => foldStrings(v, collation));
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Document = {};
  for (const [k, v] of Object.entries(value as Document)) out[k] = k === '$regex' ? v : foldStrings(v, collation);
  return out;
}

/** mingo's collation option, which orders strings in sorts by the locale. */
export function mingoCollation(collation: Collation | undefined): { collation: { locale: string; strength: 1 | 2 | 3 } } | undefined {
  if (!collation) return undefined;
  return { collation: { locale: collation.locale.split('_')[0] as string, strength: Math.min(collation.strength, 3) as 1 | 2 | 3 } };
}
