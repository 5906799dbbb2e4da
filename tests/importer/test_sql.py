"""The import's plain SQL statements give what the ORM queries they replace would."""

import pytest

from community.models import Name, NameSource
from importer import sql
from tests.factories import make_group, make_member

pytestmark = pytest.mark.django_db


def _name(member, group, normalized):
    return Name.objects.create(member=member, group=group, name=normalized, normalized=normalized,
                               source=NameSource.HEADER)


def test_names_elsewhere_finds_the_members_other_groups_and_no_group_know(monkeypatch):
    here, there, third = make_group(slug="here"), make_group(slug="there"), make_group(slug="third")
    a, b, c, d = make_member(), make_member(), make_member(), make_member()
    _name(a, there, "张三-甲-产品-上海")
    _name(b, third, "张三-甲-产品-上海")
    _name(b, there, "张三-甲-产品-上海".replace("张三", "李四"))
    _name(c, None, "王五-乙-开发-北京")  # a name of no group counts as elsewhere
    _name(d, here, "赵六-丙-运营-杭州")  # this group's own: not elsewhere
    _name(d, here, "张三-甲-产品-上海")
    wanted = ["张三-甲-产品-上海", "王五-乙-开发-北京", "赵六-丙-运营-杭州", "无人-丁-测试-深圳"]
    monkeypatch.setattr(sql, "NAMES_PER_STATEMENT", 2)  # several statements: the chunks add up

    found = sql.names_elsewhere(here.pk, wanted)

    orm: dict[str, set[int]] = {}
    for normalized, member_id in (Name.objects.filter(normalized__in=wanted).exclude(group_id=here.pk)
                                  .values_list("normalized", "member_id")):
        orm.setdefault(normalized, set()).add(member_id)
    assert found == orm == {"张三-甲-产品-上海": {a.pk, b.pk}, "王五-乙-开发-北京": {c.pk}}
