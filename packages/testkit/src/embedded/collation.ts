import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './errors.js';

/**
 * Collation for locale `en` (and `simple`, which is binary). Strings compare through a collation key built as ICU
 * builds sort keys: a primary level (base letters; punctuation and spaces before digits before letters), a
 * secondary level (accents), a tertiary level (case, lower before upper unless `caseFirst: 'upper'`), each level
 * compared only when the ones before are equal. `strength` picks how many levels count; `caseLevel` adds the case
 * level to strengths 1 and 2; `numericOrdering` compares digit runs as numbers; `alternate: 'shifted'` ignores
 * spaces and punctuation (`maxVariable: 'space'`: spaces only); `backwards` reads accents from the end. Strength 5
 * (identical) also compares the code points; strength 4 counts as 3.
 */
export interface Collation {
  locale: string;
  strength: number;
  caseLevel: boolean;
  caseFirst: 'upper' | 'lower' | 'off';
  numericOrdering: boolean;
  alternate: 'non-ignorable' | 'shifted';
  maxVariable: 'punct' | 'space';
  backwards: boolean;
}

const COLLATION_FIELDS = new Set([
  'locale',
  'strength',
  'caseLevel',
  'caseFirst',
  'numericOrdering',
  'alternate',
  'maxVariable',
  'normalization',
  'backwards',
  'version',
]);

function badValue(message: string): CommandError {
  return new CommandError(ErrorCodes.BadValue, message);
}

/** Parses a command's `collation`; undefined for none or `simple` (binary comparison). */
export function parseCollation(spec: unknown): Collation | undefined {
  if (spec === undefined || spec === null) return undefined;
  if (typeof spec !== 'object')
    throw new CommandError(ErrorCodes.TypeMismatch, "BSON field 'collation' is the wrong type, expected type 'object'");
  const s = spec as Document;
  for (const field of Object.keys(s)) if (!COLLATION_FIELDS.has(field)) throw badValue(`Unknown collation field: ${field}`);
  const { locale, strength = 3 } = s;
  if (typeof locale !== 'string') throw badValue("Missing required field 'locale' in collation spec");
  if (locale === 'simple') return undefined;
  if (!(locale === 'en' || locale.startsWith('en_'))) {
    throw badValue(`the embedded server supports collation locales 'simple' and 'en', not '${locale}'`);
  }
  if (typeof strength !== 'number' || !Number.isInteger(strength) || strength < 1 || strength > 5) {
    throw badValue('collation strength must be an integer from 1 to 5');
  }
  return {
    locale,
    strength,
    caseLevel: s.caseLevel === true,
    caseFirst: s.caseFirst === 'upper' || s.caseFirst === 'lower' ? s.caseFirst : 'off',
    numericOrdering: s.numericOrdering === true,
    alternate: s.alternate === 'shifted' ? 'shifted' : 'non-ignorable',
    maxVariable: s.maxVariable === 'space' ? 'space' : 'punct',
    backwards: s.backwards === true,
  };
}

/** The collation a command runs with: its own, else the collection's (or view's) default collation. */
export function effectiveCollation(spec: unknown, collectionOptions: Document | undefined): Collation | undefined {
  return parseCollation(spec ?? collectionOptions?.collation);
}

/** ICU's root order of ASCII spaces, punctuation and symbols: all before digits, digits before letters. */
const VARIABLE_ORDER = '\t\n\v\f\r _-,;:!?.\'"()[]{}@*/\\&#%`^+<=>|~$';
const SPACE = /\s/u;
const PUNCTUATION = /[\p{P}\p{S}\s]/u;
const MARK = /\p{M}/u;
const DIGIT = /^[0-9]$/;

function primaryWeight(base: string): string {
  const variable = VARIABLE_ORDER.indexOf(base);
  if (variable >= 0) return String.fromCharCode(2 + variable);
  if (PUNCTUATION.test(base)) return String.fromCharCode(2 + VARIABLE_ORDER.length);
  return base.toLowerCase();
}

interface Unit {
  base: string;
  marks: string;
}

function unitsOf(s: string): Unit[] {
  const units: Unit[] = [];
  for (const ch of s.normalize('NFD')) {
    const last = units[units.length - 1];
    if (last && MARK.test(ch)) last.marks += ch;
    else units.push({ base: ch, marks: '' });
  }
  return units;
}

/** The collation key of a string: binary comparison of keys is the collation's comparison of the strings. */
export function collationKey(s: string, c: Collation): string {
  let units = unitsOf(s);
  if (c.alternate === 'shifted') units = units.filter((u) => !(c.maxVariable === 'space' ? SPACE : PUNCTUATION).test(u.base));
  let primary = '';
  let secondary: string[] = [];
  let tertiary = '';
  for (let i = 0; i < units.length; i++) {
    const unit = units[i] as Unit;
    if (c.numericOrdering && DIGIT.test(unit.base)) {
      let digits = '';
      while (i < units.length && DIGIT.test((units[i] as Unit).base)) digits += (units[i++] as Unit).base;
      i -= 1;
      const value = digits.replace(/^0+(?=\d)/, '');
      primary += `0${String.fromCharCode(0x100 + value.length)}${value}`;
      secondary.push('\u0001');
      tertiary += '\u0001';
      continue;
    }
    primary += primaryWeight(unit.base);
    secondary.push(`\u0001${unit.marks}`);
    const upper = unit.base !== unit.base.toLowerCase();
    tertiary += upper === (c.caseFirst === 'upper') ? '\u0001' : '\u0002';
  }
  if (c.backwards) secondary = secondary.reverse();
  let key = primary;
  if (c.strength >= 2) key += `\u0000${secondary.join('')}`;
  if (c.caseLevel && c.strength < 3) key += `\u0000${tertiary}`;
  if (c.strength >= 3) key += `\u0000${tertiary}`;
  if (c.strength === 5) key += `\u0000${s}`;
  return key;
}

/** Operators whose string operands are names, patterns or types, never compared under a collation. */
const LITERAL_OPERATORS = new Set(['$type', '$regex', '$options', '$jsonSchema', '$where', '$text', '$comment']);

/**
 * A copy of a filter or a (promoted) document with every compared string replaced by its collation key. Strings
 * under `$type`, `$regex` and the like stay, as do field paths (`$name`) inside `$expr`.
 */
export function keyStrings(value: unknown, c: Collation, inExpression = false): unknown {
  if (typeof value === 'string') return inExpression && value.startsWith('$') ? value : collationKey(value, c);
  if (Array.isArray(value)) return value.map((v) => keyStrings(v, c, inExpression));
  if (value === null || typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return value;
  const out: Document = {};
  for (const [k, v] of Object.entries(value as Document)) {
    out[k] = LITERAL_OPERATORS.has(k) ? v : keyStrings(v, c, inExpression || k === '$expr');
  }
  return out;
}
