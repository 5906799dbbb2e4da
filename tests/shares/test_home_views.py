import pytest
from django.urls import reverse

from community.models import Visibility
from shares.models import ShareStatus
from tests.factories import at, make_group, make_member, make_membership, make_share, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def home_data():
    group = make_group(name="支付产品架构交流群", slug="prodarch", capacity=500)
    speaker = make_member("李东衡-关天数据-产品-上海")
    make_membership(group, speaker)
    make_share(group, speaker, topic="新疆本地市场的多元化金融业务", visibility=Visibility.PUBLIC, start=at("2018-06-02", "20:30"))
    make_share(group, speaker, topic="仅群成员可见的分享", visibility=Visibility.MEMBERS, start=at("2018-06-03", "20:30"))
    make_share(group, speaker, topic="下周的分享", status=ShareStatus.SCHEDULED, visibility=Visibility.PUBLIC,
               start=at("2099-01-05", "19:30"))
    return group, speaker


def test_home_anonymous_sees_groups_public_talks_and_next_share_in_chinese(client, home_data):
    response = client.get(reverse("home"))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in page
    assert "<h1>群组</h1>" in page
    assert "1 位成员（上限 500）" in page
    assert "新疆本地市场的多元化金融业务" in page
    assert "下周的分享" in page
    assert "仅群成员可见的分享" not in page
    assert "/g/prodarch/schedule/" not in page


def test_home_member_of_group_sees_members_only_talk(client, home_data):
    group, _ = home_data
    user = make_user()
    make_membership(group, make_member("会员", user=user))
    client.force_login(user)
    page = client.get(reverse("home")).content.decode()
    assert "仅群成员可见的分享" in page
    assert "2 位成员（上限 500）" in page
    assert '<a href="/g/prodarch/schedule/">排期</a>' in page


def test_home_in_english_when_english_chosen(client, home_data):
    response = client.get(reverse("home"), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert '<html lang="en">' in page
    assert "<h1>Groups</h1>" in page
    assert "1 member of 500" in page
    assert "Latest talks" in page


def test_language_switch_sets_english_for_next_pages(client, home_data):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert "<h1>Groups</h1>" in client.get(reverse("home")).content.decode()


def test_home_query_count_does_not_grow_with_groups_and_talks(client, django_assert_max_num_queries, home_data):
    with django_assert_max_num_queries(3) as one:
        client.get(reverse("home"))
    group, speaker = home_data
    for n in range(3):
        other = make_group()
        make_membership(other, make_member())
        make_share(other, speaker, topic=f"分享{n}", visibility=Visibility.PUBLIC, start=at(f"2018-07-0{n + 1}"))
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(reverse("home"))
