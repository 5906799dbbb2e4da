"""What shares do when members merge or split: registered with ``community.services`` from
``SharesConfig.ready()``, so that ``community`` never imports ``shares``.

* a split (``member_split``) moves to the new member the sign-ins recorded from the messages
  it now sent, and the group's delivered talks given mostly under the split names;
* after an admin's merge or split, the share facts of the group's memberships are
  recomputed (``membership_share_facts_refresh``; on a merge, ``shares.services`` moves
  the rows themselves);
* the merge page counts the sign-ins and shares a merge would move.
"""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from community.models import Group, Member, Message
from community.services import register_facts_refresher, register_member_counter, register_member_splitter

from .models import Share, ShareStatus, SignIn, TalkMessage, TalkPart
from .services import membership_share_facts_refresh, share_revision_record


def member_split_rows(*, source: Member, new: Member, group: Group, messages: QuerySet[Message], by=None,
                      reason: str = "") -> dict[str, int]:
    """Move from ``source`` to ``new``: the sign-ins whose message is one of ``messages`` (the
    messages ``new`` now sent in ``group``), and the group's delivered talks of ``source`` whose
    talk messages were more than half sent by ``new`` (speaker changed, recorded in the share's
    history as a reassignment with the split's reason). Returns ``{"sign_ins": n, "shares": n}``;
    the split then recomputes the group's share facts (registered below)."""
    sign_ins = SignIn.objects.filter(member=source, message__in=messages.values("pk")).update(member=new)
    talks = (
        TalkMessage.objects.filter(share__group=group, share__speaker=source, share__status=ShareStatus.DELIVERED,
                                   part=TalkPart.TALK)
        .order_by().values("share_id")
        .annotate(total=Count("id"), moved=Count("id", filter=Q(message__sender=new)))
    )
    share_ids = [row["share_id"] for row in talks if row["moved"] * 2 > row["total"]]
    now = timezone.now()
    for share in Share.objects.select_for_update().filter(pk__in=share_ids).order_by("pk"):
        share.speaker, share.version, share.updated_at = new, share.version + 1, now
        share.save(update_fields=["speaker", "version", "updated_at"])
        share_revision_record(share=share, action="reassigned", author=by, note=reason)
    return {"sign_ins": sign_ins, "shares": len(share_ids)}


def member_rows_counts(member_ids: list[int]) -> dict[int, dict[str, int]]:
    """Sign-ins and shares (as speaker) of each member: two queries."""
    counts = {pk: {"sign_ins": 0, "shares": 0} for pk in member_ids}
    for label, model, column in (("sign_ins", SignIn, "member_id"), ("shares", Share, "speaker_id")):
        rows = model.objects.filter(**{f"{column}__in": member_ids}).order_by().values_list(column).annotate(n=Count("id"))
        for pk, n in rows.values_list(column, "n"):
            counts[pk][label] = n
    return counts


register_member_splitter(member_split_rows)
register_facts_refresher(membership_share_facts_refresh)
register_member_counter(member_rows_counts)
