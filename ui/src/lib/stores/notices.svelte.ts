// Errors and notices the user should read. Every failed call ends up here, so nothing fails
// silently and nothing shows a raw stack.
import { toLoftError } from '../ipc';

export interface Notice {
  id: number;
  kind: string;
  message: string;
}

let nextId = 1;

class Notices {
  items = $state<Notice[]>([]);

  report(error: unknown): void {
    const { kind, message } = toLoftError(error);
    this.items = [...this.items.slice(-4), { id: nextId++, kind, message }];
  }

  dismiss(id: number): void {
    this.items = this.items.filter((notice) => notice.id !== id);
  }
}

export const notices = new Notices();
