import { describe, expect, it } from 'vitest';
import { render, screen } from '@testing-library/svelte';
import Sidebar from './Sidebar.svelte';

describe('Sidebar', () => {
  it('shows the locker quota under the Cloud entries once a locker is connected', () => {
    const { unmount } = render(Sidebar, {
      props: { view: 'songs', onselect: () => {}, quota: { used: 3.2e9, total: 5e9 } },
    });
    const quota = screen.getByTestId('sidebar-quota');
    expect(quota.textContent).toContain('3.2 GB of 5.0 GB');
    expect(screen.getByRole('meter', { name: 'Locker space' }).getAttribute('aria-valuenow')).toBe('3200000000');
    unmount();

    render(Sidebar, { props: { view: 'songs', onselect: () => {}, quota: null } });
    expect(screen.queryByTestId('sidebar-quota')).toBeNull();
  });
});
