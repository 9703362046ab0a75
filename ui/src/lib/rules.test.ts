import { describe, expect, it } from 'vitest';
import type { SmartRule } from './bindings';
import { describeRule, draftFromRule, emptyDraft, newCondition, operatorsFor, ruleFromDraft, withField } from './rules';

const lateJazz: SmartRule = {
  match: 'all',
  conditions: [
    { field: 'genre', op: 'is', value: 'Jazz' },
    { field: 'rating', op: 'ge', value: 4 },
    { field: 'last_played', op: 'not_in_last_days', value: 90 },
  ],
  sort: { field: 'play_count', descending: true },
  limit: 50,
};

describe('the rule editor model', () => {
  it('turns a rule into rows and back unchanged', () => {
    const draft = draftFromRule('Late jazz', lateJazz);
    expect(draft.conditions.map((c) => c.value)).toEqual(['Jazz', '4', '90']);
    expect(draft.limit).toBe('50');
    expect(ruleFromDraft(draft)).toEqual({ name: 'Late jazz', rule: lateJazz });
  });

  it('sends numbers as numbers and yes-or-no as a boolean', () => {
    const draft = {
      ...emptyDraft(),
      name: '  Loved long ones ',
      match: 'any' as const,
      conditions: [
        { field: 'loved' as const, op: 'is' as const, value: 'true' },
        { field: 'duration' as const, op: 'gt' as const, value: ' 1200 ' },
      ],
    };
    expect(ruleFromDraft(draft)).toEqual({
      name: 'Loved long ones',
      rule: {
        match: 'any',
        conditions: [
          { field: 'loved', op: 'is', value: true },
          { field: 'duration', op: 'gt', value: 1200 },
        ],
        sort: null,
        limit: null,
      },
    });
  });

  it('names the row that is wrong, in words', () => {
    const base = { ...emptyDraft(), name: 'x' };
    expect(ruleFromDraft({ ...base, name: ' ' })).toEqual({ error: 'Give the playlist a name.' });
    expect(ruleFromDraft({ ...base, conditions: [newCondition('genre'), { field: 'rating', op: 'ge', value: 'four' }] })).toEqual({
      error: 'Condition 2 (Rating): enter a whole number.',
    });
    expect(ruleFromDraft({ ...base, conditions: [{ field: 'rating', op: 'ge', value: '6' }] })).toEqual({
      error: 'Condition 1 (Rating): enter a number from 0 to 5.',
    });
    expect(ruleFromDraft({ ...base, conditions: [{ field: 'genre', op: 'gt', value: 'Jazz' }] })).toEqual({
      error: 'Condition 1 (Genre): choose what to compare.',
    });
    expect(ruleFromDraft({ ...base, limit: '0' })).toHaveProperty('error');
    expect(ruleFromDraft({ ...base, limit: '2.5' })).toHaveProperty('error');
  });

  it('keeps the operator and value when the field changes to one of the same kind', () => {
    const row = { field: 'genre' as const, op: 'contains' as const, value: 'Jazz' };
    expect(withField(row, 'artist')).toEqual({ field: 'artist', op: 'contains', value: 'Jazz' });
    expect(withField(row, 'last_played')).toEqual({ field: 'last_played', op: 'in_last_days', value: '30' });
    expect(withField(row, 'loved')).toEqual({ field: 'loved', op: 'is', value: 'true' });
  });

  it('offers only the operators the core runs for a field', () => {
    expect(operatorsFor('last_played').map((o) => o.op)).toEqual(['in_last_days', 'not_in_last_days']);
    expect(operatorsFor('title').map((o) => o.op)).not.toContain('gt');
  });

  it('describes a rule in one line', () => {
    expect(describeRule(lateJazz)).toBe(
      'Genre is Jazz and Rating ≥ 4 stars and Last played not in the last 90 days · by Plays, highest first · 50 songs at most',
    );
    expect(describeRule({ match: 'all', conditions: [], sort: { field: 'added', descending: true }, limit: 100 })).toBe(
      'Every song · by Added, latest first · 100 songs at most',
    );
  });
});
