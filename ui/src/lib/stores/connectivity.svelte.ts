// Whether the locker answers, and which local files are being uploaded: read by every track
// list (to grey out and badge rows) and by the player (to refuse what cannot play now).
// The locker store keeps it current; it lives apart so the player needs no locker import.
class Connectivity {
  lockerReachable = $state(true);
  uploadingPaths = $state<ReadonlySet<string>>(new Set());
}

export const connectivity = new Connectivity();
