import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/svelte';
import RatingStars from './RatingStars.svelte';
import LoveButton from './LoveButton.svelte';

describe('RatingStars', () => {
  it('sets the clicked number of stars and clears on the lit last one', async () => {
    const onchange = vi.fn();
    const { rerender } = render(RatingStars, { props: { rating: null, onchange } });
    expect(screen.getByRole('group', { name: 'Not rated' })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: '3 stars' }));
    expect(onchange).toHaveBeenLastCalledWith(3);

    await rerender({ rating: 3, onchange });
    expect(screen.getByRole('group', { name: 'Rated 3 of 5 stars' })).toBeTruthy();
    const pressed = screen.getAllByTestId('rating-star').map((star) => star.getAttribute('aria-pressed'));
    expect(pressed).toEqual(['true', 'true', 'true', 'false', 'false']);
    await fireEvent.click(screen.getByRole('button', { name: '3 stars: clear the rating' }));
    expect(onchange).toHaveBeenLastCalledWith(null);
  });

  it('keeps its clicks from the row under it', async () => {
    // Svelte handles clicks at the root it mounted in: what passes it reaches the body.
    const onrow = vi.fn();
    document.body.addEventListener('click', onrow);
    render(RatingStars, { props: { rating: 1, onchange: () => {} } });
    await fireEvent.click(screen.getByRole('button', { name: '5 stars' }));
    await fireEvent.dblClick(screen.getByRole('button', { name: '5 stars' }));
    expect(onrow).not.toHaveBeenCalled();
    document.body.removeEventListener('click', onrow);
  });
});

describe('LoveButton', () => {
  it('gives the heart and takes it back', async () => {
    const onchange = vi.fn();
    const { rerender } = render(LoveButton, { props: { loved: false, onchange } });
    await fireEvent.click(screen.getByRole('button', { name: 'Love' }));
    expect(onchange).toHaveBeenLastCalledWith(true);
    await rerender({ loved: true, onchange });
    const heart = screen.getByRole('button', { name: 'Loved: remove the heart' });
    expect(heart.getAttribute('aria-pressed')).toBe('true');
    await fireEvent.click(heart);
    expect(onchange).toHaveBeenLastCalledWith(false);
  });
});
