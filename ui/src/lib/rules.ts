// The rule playlist editor's model: the rows the user edits (field, operator, value as typed),
// and the rule the core accepts (crates/library/src/smart.rs), in both directions.
import type { Condition, Match, RuleField, RuleOp, SmartRule } from './bindings';

export type FieldKind = 'text' | 'number' | 'bool' | 'date';

export interface FieldInfo {
  field: RuleField;
  label: string;
  kind: FieldKind;
  /** What the number means, shown after the value box. */
  unit?: string;
  min?: number;
  max?: number;
}

export const RULE_FIELDS: readonly FieldInfo[] = [
  { field: 'title', label: 'Title', kind: 'text' },
  { field: 'artist', label: 'Artist', kind: 'text' },
  { field: 'album', label: 'Album', kind: 'text' },
  { field: 'album_artist', label: 'Album artist', kind: 'text' },
  { field: 'genre', label: 'Genre', kind: 'text' },
  { field: 'composer', label: 'Composer', kind: 'text' },
  { field: 'format', label: 'Format', kind: 'text' },
  { field: 'year', label: 'Year', kind: 'number', min: 0, max: 9999 },
  { field: 'duration', label: 'Length', kind: 'number', unit: 'seconds', min: 0 },
  { field: 'play_count', label: 'Plays', kind: 'number', min: 0 },
  { field: 'rating', label: 'Rating', kind: 'number', unit: 'stars', min: 0, max: 5 },
  { field: 'loved', label: 'Loved', kind: 'bool' },
  { field: 'last_played', label: 'Last played', kind: 'date', unit: 'days', min: 0, max: 365_000 },
  { field: 'added', label: 'Added', kind: 'date', unit: 'days', min: 0, max: 365_000 },
];

/** The operators the core runs for each kind of field, in the order the menu offers them. */
export const OPERATORS: Readonly<Record<FieldKind, readonly { op: RuleOp; label: string }[]>> = {
  text: [
    { op: 'is', label: 'is' },
    { op: 'is_not', label: 'is not' },
    { op: 'contains', label: 'contains' },
    { op: 'not_contains', label: 'does not contain' },
    { op: 'starts_with', label: 'starts with' },
  ],
  number: [
    { op: 'is', label: '=' },
    { op: 'is_not', label: '≠' },
    { op: 'gt', label: '>' },
    { op: 'ge', label: '≥' },
    { op: 'lt', label: '<' },
    { op: 'le', label: '≤' },
  ],
  bool: [
    { op: 'is', label: 'is' },
    { op: 'is_not', label: 'is not' },
  ],
  date: [
    { op: 'in_last_days', label: 'in the last' },
    { op: 'not_in_last_days', label: 'not in the last' },
  ],
};

/** The most conditions the core takes in one rule. */
export const MAX_CONDITIONS = 32;
/** The largest limit the core takes. */
export const MAX_LIMIT = 100_000;

export interface ConditionDraft {
  field: RuleField;
  op: RuleOp;
  /** As typed; "true"/"false" for a yes-or-no field. */
  value: string;
}

export interface RuleDraft {
  name: string;
  match: Match;
  conditions: ConditionDraft[];
  /** '' for the library's own order. */
  sortField: RuleField | '';
  descending: boolean;
  /** As typed; '' for no limit. */
  limit: string;
}

export function fieldInfo(field: RuleField): FieldInfo {
  return RULE_FIELDS.find((info) => info.field === field) ?? RULE_FIELDS[0]!;
}

export function operatorsFor(field: RuleField): readonly { op: RuleOp; label: string }[] {
  return OPERATORS[fieldInfo(field).kind];
}

function defaultValue(kind: FieldKind): string {
  return kind === 'bool' ? 'true' : kind === 'date' ? '30' : '';
}

export function newCondition(field: RuleField = 'genre'): ConditionDraft {
  const kind = fieldInfo(field).kind;
  return { field, op: OPERATORS[kind][0]!.op, value: defaultValue(kind) };
}

/** A row after its field changed: the operator and value stay when they still make sense. */
export function withField(condition: ConditionDraft, field: RuleField): ConditionDraft {
  const before = fieldInfo(condition.field).kind;
  const after = fieldInfo(field).kind;
  if (before === after) return { ...condition, field };
  return newCondition(field);
}

export function emptyDraft(): RuleDraft {
  return { name: '', match: 'all', conditions: [newCondition()], sortField: '', descending: false, limit: '' };
}

function valueText(value: Condition['value']): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  return typeof value === 'string' ? value : '';
}

export function draftFromRule(name: string, rule: SmartRule): RuleDraft {
  return {
    name,
    match: rule.match ?? 'all',
    conditions: (rule.conditions ?? []).map((c) => ({ field: c.field, op: c.op, value: valueText(c.value) })),
    sortField: rule.sort?.field ?? '',
    descending: rule.sort?.descending ?? false,
    limit: rule.limit === null || rule.limit === undefined ? '' : String(rule.limit),
  };
}

function wholeNumber(text: string): number | null {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : null;
}

/** The rule the core takes, or the first problem in words, naming the row. */
export function ruleFromDraft(draft: RuleDraft): { rule: SmartRule; name: string } | { error: string } {
  const name = draft.name.trim();
  if (!name) return { error: 'Give the playlist a name.' };
  if (draft.conditions.length > MAX_CONDITIONS) return { error: `A rule has at most ${MAX_CONDITIONS} conditions.` };
  const conditions: Condition[] = [];
  for (const [index, row] of draft.conditions.entries()) {
    const info = fieldInfo(row.field);
    const where = `Condition ${index + 1} (${info.label})`;
    if (!OPERATORS[info.kind].some((o) => o.op === row.op)) return { error: `${where}: choose what to compare.` };
    let value: Condition['value'];
    if (info.kind === 'text') {
      value = row.value.trim();
    } else if (info.kind === 'bool') {
      value = row.value === 'true';
    } else {
      const number = wholeNumber(row.value);
      if (number === null) return { error: `${where}: enter a whole number.` };
      if ((info.min !== undefined && number < info.min) || (info.max !== undefined && number > info.max)) {
        return { error: `${where}: enter a number from ${info.min ?? 0} to ${info.max ?? '…'}.` };
      }
      value = number;
    }
    conditions.push({ field: row.field, op: row.op, value });
  }
  let limit: number | null = null;
  if (draft.limit.trim()) {
    limit = wholeNumber(draft.limit);
    if (limit === null || limit < 1 || limit > MAX_LIMIT) {
      return { error: `The limit is a number of songs from 1 to ${MAX_LIMIT.toLocaleString()}.` };
    }
  }
  const sort = draft.sortField ? { field: draft.sortField, descending: draft.descending } : null;
  return { name, rule: { match: draft.match, conditions, sort, limit } };
}

/** What a descending sort means, by the kind of field. */
export const DESCENDING: Readonly<Record<FieldKind, string>> = {
  text: 'Z to A',
  number: 'highest first',
  bool: 'yes first',
  date: 'latest first',
};

/** "Genre is Jazz and Rating ≥ 4 · most Plays first · 50 songs": a rule in one line. */
export function describeRule(rule: SmartRule): string {
  const parts: string[] = [];
  const conditions = (rule.conditions ?? []).map((c) => {
    const info = fieldInfo(c.field);
    const op = OPERATORS[info.kind].find((o) => o.op === c.op)?.label ?? c.op;
    const value =
      info.kind === 'bool' ? (c.value === true ? 'yes' : 'no') : `${valueText(c.value)}${info.unit ? ` ${info.unit}` : ''}`;
    return `${info.label} ${op} ${value}`;
  });
  parts.push(conditions.length ? conditions.join(rule.match === 'any' ? ' or ' : ' and ') : 'Every song');
  if (rule.sort) parts.push(`by ${fieldInfo(rule.sort.field).label}${rule.sort.descending ? `, ${DESCENDING[fieldInfo(rule.sort.field).kind]}` : ''}`);
  if (rule.limit) parts.push(`${rule.limit.toLocaleString()} songs at most`);
  return parts.join(' · ');
}
