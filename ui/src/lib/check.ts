// What the cloud pane says about a locker check: a headline, then each problem with its repair.
import type { CheckReport, Finding, FindingKind } from './bindings';
import { countOf, formatBytes } from './format';

const KIND_LABELS: Record<FindingKind, string> = {
  missing_manifest: 'Missing',
  damaged_manifest: 'Damaged',
  missing_part: 'Missing part',
  damaged_part: 'Damaged part',
  unreadable_log: 'Unreadable change log',
  unreadable_snapshot: 'Unreadable snapshot',
  unreadable_device: 'Unreadable device record',
  unreferenced_manifest: 'Unreferenced',
  unreferenced_parts: 'Unreferenced parts',
};

const HARMLESS: readonly FindingKind[] = ['unreferenced_manifest', 'unreferenced_parts'];

export function findingLabel(kind: FindingKind): string {
  return KIND_LABELS[kind] ?? kind;
}

export interface CheckSummary {
  ok: boolean;
  headline: string;
  /** What is damaged, missing or unreadable, each with what to do about it. */
  problems: Finding[];
  /** Pieces nothing refers to: not damage, space a garbage collection can free. */
  unreferenced: number;
}

export function summarizeCheck(report: CheckReport): CheckSummary {
  const problems = report.findings.filter((f) => !HARMLESS.includes(f.kind));
  const unreferenced = report.findings.length - problems.length;
  const verified = `${countOf(report.blobs_checked, 'song')} verified, ${formatBytes(report.bytes_read)} read`;
  const headline = problems.length
    ? `${countOf(problems.length, 'problem')} found (${verified})`
    : `No damage found (${verified})`;
  return { ok: problems.length === 0, headline, problems, unreferenced };
}
