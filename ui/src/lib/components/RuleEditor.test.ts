import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import RuleEditor from './RuleEditor.svelte';
import { draftFromRule, emptyDraft } from '../rules';

describe('RuleEditor', () => {
  it('edits a rule playlist row by row and saves the rule the core takes', async () => {
    const onsave = vi.fn();
    const initial = draftFromRule('Jazz', {
      match: 'all',
      conditions: [
        { field: 'genre', op: 'is', value: 'Jazz' },
        { field: 'year', op: 'lt', value: 1970 },
      ],
      sort: null,
      limit: null,
    });
    render(RuleEditor, { props: { initial, heading: 'Edit', onsave, oncancel: () => {} } });
    expect(screen.getAllByTestId('rule-row')).toHaveLength(2);

    // The year row goes; a "Loved is yes" row comes; a sort and a limit.
    await fireEvent.click(screen.getByRole('button', { name: 'Remove condition 2' }));
    await fireEvent.click(screen.getByTestId('rule-add'));
    const fields = screen.getAllByTestId('rule-field') as HTMLSelectElement[];
    fields[1]!.value = 'loved';
    await fireEvent.change(fields[1]!);
    const sort = screen.getByTestId('rule-sort') as HTMLSelectElement;
    sort.value = 'play_count';
    await fireEvent.change(sort);
    await fireEvent.click(screen.getByTestId('rule-descending'));
    await fireEvent.input(screen.getByTestId('rule-limit'), { target: { value: '25' } });
    await fireEvent.submit(screen.getByTestId('rule-editor'));

    expect(onsave).toHaveBeenCalledWith('Jazz', {
      match: 'all',
      conditions: [
        { field: 'genre', op: 'is', value: 'Jazz' },
        { field: 'loved', op: 'is', value: true },
      ],
      sort: { field: 'play_count', descending: true },
      limit: 25,
    });
    // The caller's draft is untouched: the editor works on its own copy.
    expect(initial.conditions).toHaveLength(2);
  });

  it('says what is wrong instead of saving', async () => {
    const onsave = vi.fn();
    render(RuleEditor, { props: { initial: emptyDraft(), heading: 'New', onsave, oncancel: () => {} } });
    await fireEvent.submit(screen.getByTestId('rule-editor'));
    expect(screen.getByRole('alert').textContent).toBe('Give the playlist a name.');
    expect(onsave).not.toHaveBeenCalled();
  });
});
