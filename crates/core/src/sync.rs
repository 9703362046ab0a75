//! A locker sync as the service does it: the locker pulls every device's changes, and the
//! report is applied to the index — tracks first, then playlists (whose entries find the
//! tracks), listening state and rule playlists — and acknowledged, so a process killed in
//! between gets the same report again.

use loft_library::{LockerApplied, LockerCopy};
use serde::Serialize;

use crate::hub::Hub;
use crate::index::{apply_listening_and_rules, emit_library_changed, locker_copy, mirror_playlists};
use crate::session::blocking;
use crate::{CoreError, Event};

/// What one sync did, for front ends: counts, not the full lists.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[cfg_attr(feature = "ipc-types", derive(specta::Type))]
pub struct SyncSummary {
    /// Catalog ops newly applied, from every device.
    pub ops_applied: usize,
    /// Locker tracks added or changed, and removed, according to the catalog.
    pub tracks_changed: usize,
    pub tracks_removed: usize,
    pub playlists_changed: usize,
    pub playlists_deleted: usize,
    /// Songs whose plays, heart, rating or resume position changed.
    pub listening_changed: usize,
    /// Rule playlists created, changed or deleted.
    pub rule_playlists_changed: usize,
    /// What that did to the library: tracks that appeared, changed or left.
    pub library: LockerApplied,
    /// Local files found to be tracks of the locker and merged with them.
    pub merged: u64,
    /// Files another tool put in the locker's inbox, imported by this sync.
    pub inbox_imported: usize,
    /// Catalog files that could not be read (each named); their device's later ops wait.
    pub problems: Vec<String>,
    /// Edits of this device still waiting for the locker.
    pub pending_changes: usize,
}

impl Hub {
    /// Syncs and applies the changes to the index. `reconcile` compares the whole catalog with
    /// the index instead of trusting the reports seen so far (a locker connected again), and
    /// gives the catalog the plays this device counted before it was connected; it is also done
    /// for tracks whenever the counts disagree.
    pub(crate) async fn sync_and_apply(
        &self,
        locker: &loft_locker::Locker,
        reconcile: bool,
    ) -> Result<SyncSummary, CoreError> {
        self.sync_and_apply_as(locker, reconcile, false).await
    }

    /// [`Hub::sync_and_apply`] for the background loop: plays and resume positions wait to be
    /// written in batches ([`loft_locker::Locker::routine_sync`]); edits still go out at once.
    pub(crate) async fn routine_sync_and_apply(
        &self,
        locker: &loft_locker::Locker,
        reconcile: bool,
    ) -> Result<SyncSummary, CoreError> {
        self.sync_and_apply_as(locker, reconcile, true).await
    }

    async fn sync_and_apply_as(
        &self,
        locker: &loft_locker::Locker,
        reconcile: bool,
        routine: bool,
    ) -> Result<SyncSummary, CoreError> {
        if reconcile {
            self.give_own_plays(locker).await?;
        }
        let synced = if routine { locker.routine_sync().await } else { locker.sync().await };
        if let Err(error) = &synced {
            // Out of reach: the edits made meanwhile wait, and the window says how many.
            self.emit_pending(locker).await;
            tracing::debug!(%error, "the sync did not reach the locker");
        }
        let report = self.session.note(synced)?;
        let mut summary = SyncSummary {
            ops_applied: report.ops_applied,
            tracks_changed: report.tracks_changed.len(),
            tracks_removed: report.tracks_removed.len(),
            playlists_changed: report.playlists_changed.len(),
            playlists_deleted: report.playlists_deleted.len(),
            listening_changed: report.listening_changed.len(),
            rule_playlists_changed: report.smart_changed.len() + report.smart_deleted.len(),
            inbox_imported: report.inbox.imported.len(),
            problems: report.problems.clone(),
            pending_changes: report.pending_ops,
            ..SyncSummary::default()
        };
        let changed: Vec<LockerCopy> = report.tracks_changed.iter().map(locker_copy).collect();
        let removed = report.tracks_removed;
        let library = self.library.clone();
        summary.library = blocking(move || library.apply_locker_changes(&changed, &removed)).await?;
        let catalog_tracks = locker.track_count().await as u64;
        let library = self.library.clone();
        if reconcile || blocking(move || library.locker_copy_count()).await? != catalog_tracks {
            let extra = self.reconcile(locker).await?;
            summary.library.added += extra.added;
            summary.library.updated += extra.updated;
            summary.library.removed += extra.removed;
        }
        let library = self.library.clone();
        summary.merged = blocking(move || library.hash_locker_twins()).await?.merged;
        // Playlists after tracks, so their entries find the tracks.
        let (playlists_changed, listening_changed, smart_changed) = if reconcile {
            (locker.playlists().await, locker.all_listening().await, locker.smart_playlists().await)
        } else {
            (report.playlists_changed, report.listening_changed, report.smart_changed)
        };
        let (library, events) = (self.library.clone(), self.events.clone());
        let (playlists_deleted, smart_deleted) = (report.playlists_deleted, report.smart_deleted);
        blocking(move || {
            mirror_playlists(&library, &events, &playlists_changed, &playlists_deleted)?;
            apply_listening_and_rules(&library, &events, &listening_changed, &smart_changed, &smart_deleted)
        })
        .await?;
        emit_library_changed(&self.events, &summary.library, summary.merged);
        // Everything the report named is in the index now; until this, a later sync (in this
        // process or the next) reports it again.
        if let Err(error) = locker.report_applied().await {
            tracing::warn!(%error, "cannot record that the sync was applied; the next sync reports it again");
        }
        self.events.emit(Event::SyncFinished {
            ops_applied: summary.ops_applied,
            tracks_changed: summary.tracks_changed,
            tracks_removed: summary.tracks_removed,
            playlists_changed: summary.playlists_changed,
            playlists_deleted: summary.playlists_deleted,
            inbox_imported: summary.inbox_imported,
            problems: summary.problems.clone(),
        });
        self.events.emit(Event::PendingChanges { count: summary.pending_changes });
        Ok(summary)
    }

    /// Tells the front ends how many edits wait for the locker.
    pub(crate) async fn emit_pending(&self, locker: &loft_locker::Locker) {
        self.events.emit(Event::PendingChanges { count: locker.pending_ops().await });
    }

    /// Makes the index's locker copies exactly the catalog's tracks.
    async fn reconcile(&self, locker: &loft_locker::Locker) -> Result<LockerApplied, CoreError> {
        let tracks = locker.tracks().await;
        let library = self.library.clone();
        blocking(move || {
            let present: std::collections::HashSet<&str> = tracks.iter().map(|t| t.id.as_str()).collect();
            let gone: Vec<String> =
                library.locker_copy_ids()?.into_iter().filter(|id| !present.contains(id.as_str())).collect();
            let copies: Vec<LockerCopy> = tracks.iter().map(locker_copy).collect();
            library.apply_locker_changes(&copies, &gone)
        })
        .await
    }

    /// Gives the catalog the plays this device counted that it does not count for this device
    /// yet (made before the locker was connected): a running total per device, so giving it
    /// again changes nothing.
    async fn give_own_plays(&self, locker: &loft_locker::Locker) -> Result<(), CoreError> {
        let library = self.library.clone();
        let own = blocking(move || library.own_plays()).await?;
        for plays in own {
            if locker.own_plays(&plays.sha256).await < plays.plays {
                let at = plays.last_played_ms.unwrap_or(0);
                self.session.note(locker.set_own_plays(&plays.sha256, plays.plays, at).await)?;
            }
        }
        Ok(())
    }
}
