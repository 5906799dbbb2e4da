"""How right the record is after importing the real corpus (``../shared/corpus``): the measures of
the importer's fidelity, computed from the database the import wrote and from the transcripts.

Measured per group:

* **write-ups**: each curated write-up counts once, on its title's day, in the group whose
  transcript shows its talk (``importer.evaluation``); a share that day in that group finds it
  (strict), or one the day before or after (±1). The write-ups left out are listed with why.
* **topics**: the share's topic shares at least two character pairs with the title's topic.
* **announced talks**: announcements of the standard form (``今天请到…@NAME…分享…主题…``), found by
  the regular expression below — written here, independent of the detector — with the last
  one of a day for a name counting; an announced talk is found with the right speaker when a
  share of that day in that group has a speaker who bears the announced name (one of the
  member's names is it).
* **sign-ins** per share.
* **shares on days without a write-up**, listed to be read one by one.
* **quote pairs**: a quote ``「NAME：TEXT」`` says that NAME is a name of whoever sent TEXT. The
  quoted message is the latest message of the group, up to ``QUOTE_LOOKBACK_DAYS`` before,
  whose text holds the quote's (or the quote holds its, when cut), compared on letters and
  digits only. A pair is a distinct (group, quoted NAME, header name of the quoted message)
  where the two names differ; it is linked when one member bears both names.
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
from importer.evaluation import day_text, gold_talks, read_write_ups
from importer.transcript import read_transcript
from shares.models import Share

QUOTE_LOOKBACK_DAYS = 7
QUOTE_MIN_LETTERS = 4
# The standard announcement, as admins wrote it from late 2017 (TRANSCRIPT_FORMAT.md): "今天请到一位朋友，
# @SPEAKER 给大家做分享，主题是 “TOPIC” 开始时间为【19:30】". Names end at the export's "?" or a blank.
ANNOUNCEMENT = re.compile(
    r"请到.{0,12}?@(?P<name>[^@?？\s][^@?？]{0,40}?)[?？\s]*(?:给|为)大家(?:做)?(?:一个|个)?分享.{0,8}?主题"
    r"(?:是|为)?\s*[：:]?\s*[“\"「『《]?(?P<topic>[^”\"」』》]{1,80}?)[”\"」』》]?\s*[，,。；;]?\s*开始时间"
    r"(?:为|是)?\s*[【\[（(]?\s*(?P<start>\d{1,2}[:：]\d{2})"
)
# How admins address the speaker after the name ("@张三 童鞋 给大家做分享"): not part of the name.
HONORIFIC = re.compile(r"[\s?？]*(?:童鞋|童靴|同学|老师|大神|兄)$")
_LETTERS = re.compile(r"[\W_]+")


def _letters(text: str) -> str:
    return _LETTERS.sub("", text).casefold()


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
        for message in transcript.messages:
            m = ANNOUNCEMENT.search(message.text) if message.kind == "text" else None
            if m:
                name = HONORIFIC.sub("", m.group("name").strip())
                announced[transcript.day, normalize_name(name)] = {
                    "day": transcript.day.isoformat(), "name": name, "topic": m.group("topic").strip(),
                    "start": m.group("start").replace("：", ":"), "announced_by": message.sender,
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


def _quote_pairs(transcripts, names: dict[str, set[int]]) -> dict:
    history: list[tuple[dt.datetime, str, str]] = []  # (moment, sender, letters of the text)
    pairs: dict[tuple[str, str], dict] = {}
    unfound = 0
    for transcript in transcripts:
        for message in transcript.messages:
            moment = dt.datetime.combine(transcript.day, message.time)
            quote = message.quote
            if quote is not None and quote.name.strip():
                quoted = _letters(quote.text)
                sender = None
                if len(quoted) >= QUOTE_MIN_LETTERS:
                    limit = moment - dt.timedelta(days=QUOTE_LOOKBACK_DAYS)
                    for when, who, text in reversed(history):
                        if when < limit:
                            break
                        if len(text) >= QUOTE_MIN_LETTERS and (quoted in text or text in quoted
                                                              or text.startswith(quoted[:20])):
                            sender = who
                            break
                if sender is None:
                    unfound += 1
                elif normalize_name(quote.name) != normalize_name(sender):
                    key = (normalize_name(quote.name), sender)
                    pairs.setdefault(key, {"quoted_name": quote.name.strip(), "sender": sender,
                                           "day": transcript.day.isoformat()})
            history.append((moment, message.sender, _letters(message.text)))
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
