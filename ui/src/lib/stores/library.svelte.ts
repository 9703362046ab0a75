// The library as the window shows it: the folders, the size of the song list and its order,
// and whether a scan runs. Lists watch `version` and reload when the library changes.
import { api } from '../api';
import type { LoftEvent } from '../events';
import type { Folder, ScanReport, SortField, SourceFilter } from '../bindings';
import { notices } from './notices.svelte';

export interface ScanState {
  filesSeen: number;
  filesToRead: number;
  filesRead: number;
}

class LibraryState {
  folders = $state<Folder[]>([]);
  /** Rows in the Songs list (with the source filter). */
  trackCount = $state(0);
  /** Tracks in the whole library, whatever the filter: zero means the first-run empty state. */
  totalCount = $state(0);
  sort = $state<SortField>('artist');
  descending = $state(false);
  /** Which copies the Songs list shows: all, on this computer, in the locker, or playable offline. */
  source = $state<SourceFilter>('all');
  /** Bumped whenever what lists show may have changed. */
  version = $state(0);
  scan = $state<ScanState | null>(null);
  lastScan = $state<ScanReport | null>(null);
  loaded = $state(false);

  async load(): Promise<void> {
    try {
      const [folders, count, total] = await Promise.all([
        api.libraryFolders(),
        api.trackCount(this.source),
        api.trackCount('all'),
      ]);
      this.folders = folders;
      this.trackCount = count;
      this.totalCount = total;
      this.loaded = true;
    } catch (error) {
      notices.report(error);
    }
  }

  async refreshCount(): Promise<void> {
    try {
      [this.trackCount, this.totalCount] = await Promise.all([api.trackCount(this.source), api.trackCount('all')]);
    } catch (error) {
      notices.report(error);
    }
  }

  async setSource(source: SourceFilter): Promise<void> {
    this.source = source;
    await this.refreshCount();
    this.version += 1;
  }

  setSort(field: SortField): void {
    if (this.sort === field) this.descending = !this.descending;
    else {
      this.sort = field;
      this.descending = false;
    }
  }

  async addFolder(path: string): Promise<boolean> {
    const trimmed = path.trim();
    if (!trimmed) return false;
    try {
      await api.addLibraryFolder(trimmed);
      this.folders = await api.libraryFolders();
      void this.rescan();
      return true;
    } catch (error) {
      notices.report(error);
      return false;
    }
  }

  async pickAndAddFolder(): Promise<void> {
    try {
      const path = await api.pickFolder();
      if (path) await this.addFolder(path);
    } catch (error) {
      notices.report(error);
    }
  }

  async removeFolder(path: string): Promise<void> {
    try {
      await api.removeLibraryFolder(path);
      this.folders = await api.libraryFolders();
      await this.refreshCount();
      this.version += 1;
    } catch (error) {
      notices.report(error);
    }
  }

  async rescan(): Promise<void> {
    this.scan = { filesSeen: 0, filesToRead: 0, filesRead: 0 };
    try {
      this.lastScan = await api.scanLibrary();
    } catch (error) {
      notices.report(error);
    } finally {
      this.scan = null;
    }
  }

  handleEvent(event: LoftEvent): void {
    switch (event.type) {
      case 'scan_progress':
        this.scan = { filesSeen: event.files_seen, filesToRead: event.files_to_read, filesRead: event.files_read };
        break;
      case 'scan_finished':
        this.scan = null;
        break;
      case 'library_changed':
        void this.refreshCount();
        this.version += 1;
        break;
      case 'cache_changed':
        // Badges and the Offline filter follow the cache.
        if (this.source === 'offline') void this.refreshCount();
        this.version += 1;
        break;
      case 'library_watch_failed':
        notices.report({ kind: 'watch', message: event.message });
        break;
      default:
        break;
    }
  }
}

export const library = new LibraryState();
