from __future__ import annotations

from dataclasses import asdict

LABELS = {
    "files_read": "files read",
    "files_skipped": "files skipped as unchanged",
    "files_failed": "files failed",
    "messages_created": "messages added",
    "messages_unchanged": "messages already stored",
    "messages_not_in_file": "stored messages not in the files",
    "messages_removed": "stored messages removed (days replaced)",
    "members_created": "members created",
    "names_created": "names created",
    "members_merged": "members merged (names linked)",
    "shares_found": "shares found",
    "talks_changed": "talks new, changed or removed",
    "sign_ins_found": "sign-ins found",
}


def print_summary(command, result, seconds: float) -> None:
    """The run's summary: warnings and errors first, then the counts."""
    for warning in result.warnings[:50]:
        command.stderr.write(command.style.WARNING(f"warning: {warning}"))
    if len(result.warnings) > 50:
        command.stderr.write(command.style.WARNING(f"… and {len(result.warnings) - 50} more warnings (see --report)"))
    for error in result.errors:
        command.stderr.write(command.style.ERROR(f"error: {error}"))
    title = f"Import run {result.run.pk}" + (" (dry run: nothing was written)" if result.run.dry_run else "")
    command.stdout.write(f"{title} — {seconds:.1f}s")
    for key, value in asdict(result.counts).items():
        command.stdout.write(f"  {LABELS[key]:<32} {value}")


def day_lines(files: list[dict], *, dry_run: bool) -> list[str]:
    """Per file and day, what the import adds (or would add), the stored messages the file lacks
    (kept, or removed in a day replaced), the talks found and changed, and the sign-ins."""
    lines = []
    for report in files:
        if report.get("status") != "imported":
            continue
        added, removed, missing = report["added"], report["removed"], report["not_in_file"]
        if removed:
            gone = f"{removed} stored but not in the file ({'to remove' if dry_run else 'removed'}: day replaced)"
        elif missing:
            gone = f"{missing} stored but not in the file (kept; --replace-days removes them)"
        else:
            gone = "0 stored but not in the file"
        talks = report.get("talks", [])
        changed = [t for t in talks if t["status"] in ("new", "changed", "removed")]
        lines.append(
            f"  {report['day']}  {report['file']}: {added} {'to add' if dry_run else 'added'}, "
            f"{report['kept']} already stored, {gone}; talks: {report['shares']} found, {len(changed)} new or changed; "
            f"sign-ins: {report['sign_ins']} {'to add' if dry_run else 'added'}"
        )
        for talk in changed:
            lines.append(f"      talk {talk['status']}: “{talk['topic']}” ({talk.get('speaker_name', '')})")
    return lines
