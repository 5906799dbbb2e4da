from __future__ import annotations

from dataclasses import asdict

LABELS = {
    "files_read": "files read",
    "files_skipped": "files skipped as unchanged",
    "files_failed": "files failed",
    "messages_created": "messages created",
    "messages_unchanged": "messages unchanged",
    "messages_removed": "messages removed (file changed)",
    "members_created": "members created",
    "names_created": "names created",
    "members_merged": "members merged (names linked)",
    "shares_found": "shares found",
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
