"""What the importer keeps about a member, for a privacy erasure, registered with
``community.privacy`` from ``ImporterConfig.ready()``:

* the run journal's images of their rows (``importer.journal``), scrubbed so that undoing a run
  never brings back what the erasure removed;
* the name they spoke under, in the reports of runs (a talk found: its speaker's name), which
  then reads as the anonymous name.
"""

from __future__ import annotations

from community.models import Member
from community.privacy import register_member_eraser

from .journal import journal_member_erase
from .models import ImportRun


def _talks_scrubbed(reports: list, member: Member, anonymous_name: str) -> bool:
    changed = False
    for report in reports:
        for talk in report.get("talks") or () if isinstance(report, dict) else ():
            if talk.get("speaker") == member.pk or talk.get("speaker_name") == member.display_name:
                if talk.get("speaker_name") != anonymous_name:
                    talk["speaker_name"] = anonymous_name
                    changed = True
    return changed


def import_member_erase(*, member: Member, anonymous_name: str) -> dict[str, int]:
    """Scrub the journal (see ``journal_member_erase``) and the talk reports of the runs of the
    member's groups."""
    counts = journal_member_erase(member=member, anonymous_name=anonymous_name)
    runs = ImportRun.objects.filter(group__memberships__member=member).distinct().only("id", "files", "preview")
    scrubbed = []
    for run in runs:
        in_files = _talks_scrubbed(run.files or [], member, anonymous_name)
        in_preview = _talks_scrubbed((run.preview or {}).get("files") or [], member, anonymous_name)
        if in_files or in_preview:
            scrubbed.append(run)
    ImportRun.objects.bulk_update(scrubbed, ["files", "preview"], batch_size=200)
    return {**counts, "import_reports": len(scrubbed)}


register_member_eraser(import_member_erase)
