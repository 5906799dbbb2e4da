import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_every_message_has_a_chinese_translation():
    po = (REPO / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = re.split(r"\n\n", po)[1:]  # the first entry is the header
    untranslated = [
        entry for entry in entries
        if not entry.startswith("#~") and re.search(r'^msgstr(\[0\])? ""\n?$', entry.strip().split("\n")[-1] + "\n", re.M)
        and "\"\n\"" not in entry.split("msgstr", 1)[1]
    ]
    assert untranslated == []



def test_no_fuzzy_translation_left():
    """gettext ignores fuzzy entries: each would show in English on a Chinese page."""
    po = (REPO / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    entries = re.split(r"\n\n", po)[1:]
    assert [entry for entry in entries if "#, fuzzy" in entry] == []
