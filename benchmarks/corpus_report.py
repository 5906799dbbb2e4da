"""How right the record is after importing the real corpus (``../shared/corpus``): the measures of
the importer's fidelity, computed from the database the import wrote and from the transcripts.

Measured per group:

* **write-ups**: each curated write-up counts once, on its title's day, in the group whose
  transcript shows its talk (``importer.evaluation``); a share that day in that group finds it
  (strict), or one the day before or after (±1). The write-ups left out are listed with why.
* **topics**: the share's topic shares at least two character pairs with the title's topic.
* **announced talks**: announcements of the standard form (``今天请到…@NAME…分享…主题…``), found by
  ``importer.evaluation.STANDARD_ANNOUNCEMENT`` (``standard_announcements``: the one regular
  expression of the evaluation, independent of the detector), with the last one of a day for a
  name counting; an announced talk is found with the right speaker when a share of that day in
  that group has a speaker who bears the announced name (one of the member's names is it).
* **sign-ins** per share.
* **shares on days without a write-up**, listed to be read one by one.
* **quote pairs**: a quote ``「NAME：TEXT」`` (full-width or ASCII colon; a quote of a quote counts
  twice) says that NAME is a name of whoever sent TEXT. The quoted message is the latest message
  of the group, up to ``QUOTE_LOOKBACK_DAYS`` before, whose text holds the quote's (or the quote
  holds its, when cut), compared on letters and digits only (whitespace, emoji codes and the
  export's ``?`` for lost emoji do not count); for ``[图片]`` the latest image, for a link its
  title or URL. A pair is a distinct (group, quoted NAME, header name of the quoted message)
  where the two names differ (``我`` is no name); it is linked when one member bears both names
  (a suggestion does not count). Written here, apart from the importer's ``importer.quotes``.
* **wrong merges**: distinct (group, sender, @mentioned name) pairs whose two names are both
  known names of the group, differ, and are borne by one member (people rarely @ themselves).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

from community.models import Group, Name
from community.names import normalize_name
from importer.evaluation import day_text, gold_talks, read_write_ups, standard_announcements
from importer.identity import ME
from importer.transcript import read_transcript
from shares.models import Share

# A quote is of a message sent at most this many days before it (the week).
QUOTE_LOOKBACK_DAYS = 7
# A quote's text is looked for when it has at least this many letters or digits (fewer match anything);
# a quote of an image (``[图片]``) is of the latest image sent before it.
QUOTE_MIN_LETTERS = 4
_LETTERS = re.compile(r"[\W_]+")
_EMOJI_CODE = re.compile(r"\[[\u4e00-\u9fffA-Za-z]{1,8}\]")
_IMAGE_QUOTE = re.compile(r"\s*\[(?:图片|动画表情|表情|视频)\]\s*")
_LINK_QUOTE = re.compile(r"\[链接\]\s*")


def _letters(text: str) -> str:
    """Letters and digits only: whitespace, punctuation, WeChat's emoji codes and the export's ``?`` for
    lost emoji are not compared."""
    return _LETTERS.sub("", _EMOJI_CODE.sub("", text)).casefold()


def _bigrams(text: str) -> set[str]:
    chars = [c for c in text.casefold() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def _similar(topic: str, title: str) -> bool:
    return len(_bigrams(topic) & _bigrams(title)) >= 2


def _members_by_name(group: Group) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for normalized, member_id in Name.objects.filter(group=group).values_list("normalized", "member_id"):
        found[normalized].add(member_id)
    return found


def corpus_report(corpus: Path, groups: list[str]) -> dict:
    transcripts = {slug: [read_transcript(p) for p in sorted((corpus / slug).glob("*.markdown"))] for slug in groups}
    days = defaultdict(list)
    for slug, items in transcripts.items():
        for transcript in items:
            days[transcript.day].append(day_text(slug, transcript.day, transcript.messages))
    gold, left_out = gold_talks(read_write_ups(corpus / "curated"), days)
    shares = defaultdict(list)
    for share in Share.objects.select_related("group", "speaker").order_by("day", "id"):
        shares[share.group.slug, share.day].append(share)
    report: dict = {"groups": {}, "left_out": [{"write_up": x.write_up.name, "day": x.write_up.day.isoformat(),
                                                 "reason": x.reason} for x in left_out]}
    for slug in groups:
        group = Group.objects.get(slug=slug)
        names = _members_by_name(group)
        report["groups"][slug] = {
            **_write_ups(slug, gold, shares),
            "announced": _announced(slug, transcripts[slug], shares, names),
            "sign_ins": [{"day": day.isoformat(), "topic": s.topic, "sign_ins": s.sign_in_count}
                         for (g, day), items in sorted(shares.items()) if g == slug for s in items],
            "without_write_up": _without_write_up(slug, gold, shares),
            **_quote_pairs(transcripts[slug], names),
            **_wrong_merges(transcripts[slug], names),
        }
    return report


def _share_row(share: Share) -> dict:
    return {"day": share.day.isoformat(), "speaker": share.speaker.display_name, "topic": share.topic,
            "status": share.status, "topic_source": getattr(share, "topic_source", ""),
            "sign_ins": share.sign_in_count}


def _write_ups(slug: str, gold, shares) -> dict:
    mine = [g for g in gold if g.group == slug]
    strict, near, topics_alike, missed = [], [], [], []
    for talk in mine:
        found = shares.get((slug, talk.day), [])
        if found:
            strict.append(talk)
            near.append(talk)
            if any(_similar(s.topic, talk.write_up.topic) for s in found):
                topics_alike.append(talk)
            continue
        adjacent = [s for offset in (-1, 1) for s in shares.get((slug, talk.day + dt.timedelta(days=offset)), [])]
        if adjacent:
            near.append(talk)
        missed.append({"day": talk.day.isoformat(), "write_up": talk.write_up.name, "title": talk.write_up.topic,
                       "adjacent": [_share_row(s) for s in adjacent]})
    return {"write_ups": len(mine), "strict": len(strict), "near": len(near), "missed": missed,
            "topics_alike": len(topics_alike)}


def _without_write_up(slug: str, gold, shares) -> list[dict]:
    gold_days = {g.day for g in gold if g.group == slug}
    return [_share_row(s) for (g, day), items in sorted(shares.items()) if g == slug and day not in gold_days
            for s in items]


def _announced(slug: str, transcripts, shares, names: dict[str, set[int]]) -> dict:
    """The standard-form announcements, the last per day and name, and whether a share of that day
    has a speaker who bears the announced name."""
    announced: dict[tuple[dt.date, str], dict] = {}
    for transcript in transcripts:
        for index, name, topic, start in standard_announcements(transcript.messages):
            announced[transcript.day, normalize_name(name)] = {
                "day": transcript.day.isoformat(), "name": name, "topic": topic,
                "start": start.strftime("%H:%M"), "announced_by": transcript.messages[index].sender,
            }
    right, wrong = 0, []
    for (day, normalized), item in sorted(announced.items()):
        bearers = names.get(normalized, set())
        day_shares = shares.get((slug, day), [])
        if any(share.speaker_id in bearers for share in day_shares):
            right += 1
        else:
            wrong.append({**item, "shares": [_share_row(s) for s in day_shares]})
    return {"count": len(announced), "right_speaker": right, "not_right": wrong}


def _quoted_sender(quote, moment: dt.datetime, history) -> str | None:
    """The header name of the message ``quote`` quotes: the latest message of the group in the
    ``QUOTE_LOOKBACK_DAYS`` before whose text holds the quote's (cut short, or with whitespace or
    emoji lost) or that the quote holds; for a quote of an image, the latest image; of a link, the
    latest link with its title or URL."""
    limit = moment - dt.timedelta(days=QUOTE_LOOKBACK_DAYS)
    image = _IMAGE_QUOTE.fullmatch(quote.text) is not None
    text = _LINK_QUOTE.sub("", quote.text).strip()
    quoted = _letters(text)
    if not image and len(quoted) < QUOTE_MIN_LETTERS:
        return None
    for when, who, kind, letters, url in reversed(history):
        if when < limit:
            break
        if image:
            if kind == "image":
                return who
        elif (url and text.startswith(url)) or (len(letters) >= QUOTE_MIN_LETTERS and (
                quoted in letters or letters in quoted or letters.startswith(quoted[:20]))):
            return who
    return None


def _quote_pairs(transcripts, names: dict[str, set[int]]) -> dict:
    """Distinct (quoted name, header name of the quoted message) pairs whose names differ, and which
    of them one member bears. A quote of a quote counts both. ``我`` is not a name: WeChat shows it
    in the quote of the replier's own message."""
    history: list[tuple[dt.datetime, str, str, str, str]] = []  # (moment, sender, kind, letters, url)
    pairs: dict[tuple[str, str], dict] = {}
    unfound = 0
    for transcript in transcripts:
        for message in transcript.messages:
            moment = dt.datetime.combine(transcript.day, message.time)
            quote = message.quote
            while quote is not None:
                if quote.name.strip() and normalize_name(quote.name) != normalize_name(ME):
                    sender = _quoted_sender(quote, moment, history)
                    if sender is None:
                        unfound += 1
                    elif normalize_name(quote.name) != normalize_name(sender):
                        key = (normalize_name(quote.name), sender)
                        pairs.setdefault(key, {"quoted_name": quote.name.strip(), "sender": sender,
                                               "day": transcript.day.isoformat()})
                quote = quote.inner
            history.append((moment, message.sender, message.kind, _letters(message.text), message.url))
    linked = []
    for (quoted_name, sender), item in pairs.items():
        if names.get(quoted_name, set()) & names.get(normalize_name(sender), set()):
            linked.append(item)
    return {"quote_pairs": len(pairs), "quote_pairs_linked": len(linked), "quotes_unfound": unfound,
            "quote_pairs_not_linked": [p for p in pairs.values() if p not in linked]}


def _wrong_merges(transcripts, names: dict[str, set[int]]) -> dict:
    pairs: dict[tuple[str, str], dict] = {}
    for transcript in transcripts:
        for message in transcript.messages:
            sender = normalize_name(message.sender)
            for mention in message.mentions:
                mentioned = normalize_name(mention)
                if mentioned and sender and mentioned != sender and mentioned in names and sender in names:
                    pairs.setdefault((sender, mentioned), {"sender": message.sender, "mentioned": mention,
                                                           "day": transcript.day.isoformat()})
    wrong = [item for (sender, mentioned), item in pairs.items() if names[sender] & names[mentioned]]
    return {"mention_pairs": len(pairs), "wrong_merges": len(wrong), "wrong_merge_examples": wrong[:50]}
