"""A talk announced in one group and given by its speaker in another group that evening: the
announced share links to that talk (``given_in``) whichever day is imported first, and the
announcing group's members may read that talk under its visibility — the one deliberate
cross-group read; a member of a third group still may not."""

import pytest
from django.urls import reverse

from community.models import Membership, Visibility
from importer.services import Source, transcripts_import
from shares.models import Share, ShareStatus, SignIn
from tests.factories import ROLES, at, client_for, make_cast, make_group, make_member, make_person, make_share

from ..importer.test_services import ANNOUNCE, talk_day, transcript

pytestmark = pytest.mark.django_db

DAY = "2024-03-06"
SPEAKER = "周明远-云汇支付-产品-杭州"


def announced_not_given():
    return transcript(DAY, [("15:00:00", "管理员甲", ANNOUNCE.format(nick=SPEAKER, topic="跨境收单的清结算", start="19:30")),
                            ("19:10:00", "甲群听众", "签到"), ("19:40:00", "管理员甲", "嘉宾今晚在另一个群分享")])


def run(slug, data):
    result = transcripts_import(group_slug=slug, sources=[Source.from_bytes(f"{DAY}.md", data)])
    assert result.ok, result.errors
    return result


def state():
    return sorted((s.group.slug, s.status, s.speaker.display_name, s.given_in.group.slug if s.given_in else None)
                  for s in Share.objects.select_related("group", "speaker", "given_in__group"))


LINKED = [("devarch", "delivered", SPEAKER, None), ("prodarch", "announced", SPEAKER, "devarch")]


@pytest.mark.parametrize("order", [("prodarch", "devarch"), ("devarch", "prodarch")])
def test_the_announced_share_links_to_the_talk_given_elsewhere_in_either_import_order(order):
    days = {"prodarch": announced_not_given(), "devarch": talk_day(day=DAY, speaker=SPEAKER)}
    for slug in order:
        run(slug, days[slug])

    assert state() == LINKED
    announced = Share.objects.get(group__slug="prodarch")
    assert announced.given_in == Share.objects.get(group__slug="devarch")
    # Each group keeps its own sign-ins; the speaker has shared in both groups.
    assert sorted(SignIn.objects.values_list("share__group__slug", "member__display_name")) == [
        ("devarch", "听众一"), ("devarch", "听众三"), ("devarch", "听众二"), ("prodarch", "甲群听众")]
    assert sorted(Membership.objects.filter(member__display_name=SPEAKER).values_list("group__slug", "shares_given")) == [
        ("devarch", 1), ("prodarch", 1)]


def test_the_link_goes_when_the_talk_is_no_longer_found_there():
    run("prodarch", announced_not_given())
    run("devarch", talk_day(day=DAY, speaker=SPEAKER))

    result = transcripts_import(group_slug="devarch", replace_days=True, sources=[Source.from_bytes(
        f"{DAY}.md", transcript(DAY, [("10:00:00", SPEAKER, "今晚不讲了")]))])

    assert result.ok, result.errors
    assert state() == [("prodarch", "announced", SPEAKER, None)]
    assert Membership.objects.get(group__slug="prodarch", member__display_name=SPEAKER).shares_given == 0


def test_a_talk_of_another_speaker_that_evening_is_not_linked():
    run("prodarch", announced_not_given())
    run("devarch", talk_day(day=DAY, speaker="另一位-某支付-产品-北京"))

    assert [row[3] for row in state() if row[0] == "prodarch"] == [None]


# --- who reads the talk given elsewhere: the cast's group announced it, the other group heard it ---

@pytest.fixture
def world():
    """The cast's group (prodarch) announced a talk that its speaker gave in the other group
    (devarch); a third group with a member of its own."""
    cast = make_cast()
    speaker = make_member(SPEAKER)
    cast.third = make_person(make_group(slug="third", name="第三个群"), "吴九-第三群")
    cast.given = make_share(cast.other_group, speaker, topic="跨境收单的清结算", start=at(DAY, "19:30"))
    cast.announced = make_share(cast.group, speaker, topic="跨境收单的清结算", status=ShareStatus.ANNOUNCED,
                                start=at(DAY, "19:30"), origin="import", given_in=cast.given)
    return cast


def talk_url(share):
    return reverse("shares:talk", kwargs={"group_slug": share.group.slug, "pk": share.pk})


CAST_ROLES = [*ROLES, "third"]
EVERYONE = set(CAST_ROLES)
OTHER_GROUP = {"outsider", "other_admin", "staff"}
ANNOUNCING_GROUP = {"member", "speaker", "admin"}


@pytest.mark.parametrize(("visibility", "allowed"), [
    (Visibility.PUBLIC, EVERYONE),
    (Visibility.MEMBERS, OTHER_GROUP | ANNOUNCING_GROUP),
    (Visibility.HIDDEN, {"other_admin", "staff"}),
])
@pytest.mark.parametrize("role", CAST_ROLES)
def test_the_announcing_groups_members_read_the_talk_under_its_visibility(world, visibility, allowed, role):
    Share.objects.filter(pk=world.given.pk).update(visibility=visibility)

    response = client_for(world, role).get(talk_url(world.given))

    assert response.status_code == (200 if role in allowed else 404)


@pytest.mark.parametrize("role", ["member", "speaker", "admin"])
def test_without_the_link_the_announcing_group_reads_nothing_of_the_other_group(world, role):
    Share.objects.filter(pk=world.announced.pk).update(given_in=None)

    assert client_for(world, role).get(talk_url(world.given)).status_code == 404


def test_the_announced_share_page_links_to_the_talk_given_elsewhere(world):
    url = reverse("shares:share_detail", kwargs={"group_slug": "prodarch", "pk": world.announced.pk})

    html = client_for(world, "member").get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert (f'<p class="announced-note">Given in 支付开发群 that evening: <a class="given-in" '
            f'href="{talk_url(world.given)}">跨境收单的清结算</a></p>') in html


def test_the_announced_share_page_names_no_talk_the_member_may_not_read(world):
    Share.objects.filter(pk=world.given.pk).update(visibility=Visibility.HIDDEN)
    url = reverse("shares:share_detail", kwargs={"group_slug": "prodarch", "pk": world.announced.pk})

    html = client_for(world, "member").get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()

    assert '<p class="announced-note">Announced in the group\'s record, not given here that day.</p>' in html
    assert talk_url(world.given) not in html


def test_the_api_gives_the_link(world):
    rows = client_for(world, "member").get(reverse("api:share-list")).json()["results"]

    assert sorted((row["id"], row["group"], row["status"], row["given_in"]) for row in rows) == [
        (world.given.pk, "devarch", "delivered", None), (world.announced.pk, "prodarch", "announced", world.given.pk)]


@pytest.mark.parametrize("items", [1, 3])
def test_the_talk_page_read_across_groups_costs_the_same_queries(world, django_assert_num_queries, items):
    for n in range(1, items):
        other = make_share(world.other_group, world.given.speaker, topic=f"另一场{n}", start=at("2024-03-0" + str(n), "19:30"))
        make_share(world.group, world.given.speaker, topic=f"另一场{n}", status=ShareStatus.ANNOUNCED,
                   start=at("2024-03-0" + str(n), "19:30"), origin="import", given_in=other)
    client = client_for(world, "member")

    # group, session, user, the user's member and memberships, the talk (its signature and neighbours; the
    # cross-group read is a condition of that query), the speaker's names, sign-ins (the talk has no message):
    # not a member of that group, no day discussion.
    with django_assert_num_queries(7):
        response = client.get(talk_url(world.given))

    assert response.status_code == 200
