import pytest

from community.lengths import clip, max_length
from community.models import Message


def test_clip_cuts_to_the_fields_max_length_from_the_start_or_keeping_the_end():
    limit = Message._meta.get_field("source_file").max_length
    path = "/" + "x" * limit + "/day.md"
    assert max_length(Message, "source_file") == limit
    assert clip(path, Message, "source_file") == path[:limit]
    assert clip(path, Message, "source_file", keep_end=True).endswith("/day.md")
    assert len(clip(path, Message, "source_file", keep_end=True)) == limit
    assert clip("短", Message, "source_file") == "短"


def test_a_field_without_max_length_is_refused():
    with pytest.raises(TypeError, match="community.Message.text has no max_length"):
        max_length(Message, "text")
