"""The image folder: files checked to be images, resized, matched to their image message by the
link's file name or by the time in the name, stored as the message's copy (replacing one)."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image

from community.models import MessageKind, StoredImage, Visibility
from importer.images import ImageError, image_messages_match, image_prepare
from importer.models import ImportRun
from importer.uploads import import_upload_create
from shares.models import TalkMessage, TalkPart
from tests.factories import at, make_cast, make_group, make_member, make_message, make_share, make_user

pytestmark = pytest.mark.django_db

URL = "http://static.cocolian.cn/img/201803/20180307_093808.png"


def picture(width=40, height=20, fmt="PNG", **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG whose header claims another size (its CRC fixed): a decompression bomb's header."""
    data = bytearray(picture(1, 1))
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


def test_a_wide_image_is_resized_to_1280_keeping_its_aspect():
    image = image_prepare(picture(3000, 1500), name="a.png")
    assert (image.width, image.height, image.content_type, image.extension) == (1280, 640, "image/png", "png")
    assert Image.open(io.BytesIO(image.content)).size == (1280, 640)


def test_a_small_image_keeps_its_size():
    image = image_prepare(picture(40, 20, "JPEG"), name="a.jpg")
    assert (image.width, image.height, image.content_type, image.extension) == (40, 20, "image/jpeg", "jpg")


def test_a_jpeg_loses_its_exif_and_is_turned_upright():
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotated 90° clockwise
    exif[0x010F] = "Camera maker"
    image = image_prepare(picture(40, 20, "JPEG", exif=exif.tobytes()), name="a.jpg")
    stored = Image.open(io.BytesIO(image.content))
    assert (stored.size, dict(stored.getexif())) == ((20, 40), {})


def test_an_animated_gif_keeps_its_first_frame_as_a_png():
    frames = [Image.new("P", (30, 10), color) for color in (1, 2, 3)]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:])
    image = image_prepare(buffer.getvalue(), name="a.gif")
    stored = Image.open(io.BytesIO(image.content))
    assert (stored.format, stored.size, getattr(stored, "n_frames", 1), image.content_type) == ("PNG", (30, 10), 1, "image/png")


def test_a_webp_is_kept_as_webp():
    image = image_prepare(picture(20, 20, "WEBP"), name="a.webp")
    assert (image.content_type, Image.open(io.BytesIO(image.content)).format) == ("image/webp", "WEBP")


@pytest.mark.parametrize(("data", "error"), [
    (b"hello, not an image\n", "a.png:0: not an image (PNG, JPEG, GIF or WebP)"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "a.png:0: not an image (PNG, JPEG, GIF or WebP)"),
    (picture(40, 20, "BMP"), "a.png:0: BMP images are not accepted (PNG, JPEG, GIF or WebP only)"),
    (png_claiming(5000, 5000), "a.png:0: 5000×5000 pixels is more than the 1000000 allowed"),
    (png_claiming(60000, 60000), "a.png:0: not an image (PNG, JPEG, GIF or WebP)"),  # Pillow's own bomb check
])
def test_anything_but_an_allowed_image_is_refused(data, error):
    with pytest.raises(ImageError) as raised:
        image_prepare(data, name="a.png", max_pixels=1_000_000)
    assert str(raised.value) == error


def test_a_truncated_png_is_refused_as_damaged():
    with pytest.raises(ImageError, match=r"^a.png:0: the image is damaged"):
        image_prepare(picture(200, 200)[:120], name="a.png")


def test_matching_by_the_links_file_name_then_by_the_time_in_the_name():
    group = make_group()
    sender = make_member()
    by_url = make_message(group, sender, at("2018-03-07", "09:38:08"), "", kind=MessageKind.IMAGE, url=URL)
    by_time = make_message(group, sender, at("2018-03-07", "10:00:01"), "", kind=MessageKind.IMAGE,
                           url="http://elsewhere.example/x.jpg")
    twins = [make_message(group, sender, at("2018-03-07", "11:00:00"), "", kind=MessageKind.IMAGE) for _ in range(2)]
    make_message(group, sender, at("2018-03-07", "12:00:00"), "not an image")  # a text at that time: not matched
    make_message(make_group(), sender, at("2018-03-07", "13:00:00"), "", kind=MessageKind.IMAGE)  # another group

    names = ["20180307_093808.png", "20180307_100001.jpg", "20180307_110000.png", "20180307_120000.png",
             "20180307_130000.png", "holiday.png"]
    found = {name: (m.message_id, m.reason, m.candidates) for name, m in image_messages_match(group=group, names=names).items()}

    assert found == {
        "20180307_093808.png": (by_url.pk, "", ()),
        "20180307_100001.jpg": (by_time.pk, "", ()),
        "20180307_110000.png": (None, "ambiguous", (twins[0].pk, twins[1].pk)),
        "20180307_120000.png": (None, "unmatched", ()),
        "20180307_130000.png": (None, "unmatched", ()),
        "holiday.png": (None, "unmatched", ()),
    }


def test_matching_reads_the_time_in_the_groups_time_zone():
    group = make_group(time_zone="Europe/Paris")
    message = make_message(group, make_member(), at("2018-03-07", "16:38:08"), "", kind=MessageKind.IMAGE)  # 09:38:08 in Paris
    assert image_messages_match(group=group, names=["20180307_093808.png"])["20180307_093808.png"].message_id == message.pk


def test_matching_issues_one_query_whatever_the_number_of_files(django_assert_num_queries):
    group = make_group()
    with django_assert_num_queries(1):
        image_messages_match(group=group, names=[f"20180307_0938{n:02}.png" for n in range(30)])


def upload_images(group, files, django_capture_on_commit_callbacks, user=None):
    with django_capture_on_commit_callbacks(execute=True):
        run = import_upload_create(group=group, user=user or make_user(), kind="images", files=files)
    return ImportRun.objects.get(pk=run.pk)


def test_upload_stores_replaces_and_reports_each_file(django_capture_on_commit_callbacks):
    group = make_group(slug="prodarch")
    sender = make_member()
    first = make_message(group, sender, at("2018-03-07", "09:38:08"), "", kind=MessageKind.IMAGE, url=URL)
    second = make_message(group, sender, at("2018-03-07", "10:00:00"), "", kind=MessageKind.IMAGE)
    user = make_user("zhou")
    upload_images(group, [("20180307_093808.png", picture(30, 30))], django_capture_on_commit_callbacks)
    old_file = StoredImage.objects.get(message=first).file.name

    run = upload_images(group, [
        ("20180307_093808.png", picture(2560, 100)),
        ("20180307_100000.jpg", picture(10, 10, "JPEG")),
        ("20180307_110000.png", picture(10, 10)),
        ("20180307_100000.png", b"not an image"),
    ], django_capture_on_commit_callbacks, user=user)

    assert run.files == [
        {"file": "20180307_093808.png", "status": "replaced", "message": first.pk, "width": 1280, "height": 50},
        {"file": "20180307_100000.jpg", "status": "stored", "message": second.pk, "width": 10, "height": 10},
        {"file": "20180307_110000.png", "status": "unmatched",
         "error": "20180307_110000.png:0: no image message of the group has this name or was sent at the time it says"},
        {"file": "20180307_100000.png", "status": "failed", "message": second.pk,
         "error": "20180307_100000.png:0: not an image (PNG, JPEG, GIF or WebP)"},
    ]
    assert run.counts == {"files_read": 4, "images_stored": 1, "images_replaced": 1, "files_unmatched": 1,
                          "files_ambiguous": 0, "files_failed": 1}
    assert run.status == "failed"
    copies = {c.message_id: c for c in StoredImage.objects.all()}
    assert {pk: (c.content_type, c.uploaded_by_id) for pk, c in copies.items()} == {
        first.pk: ("image/png", user.pk), second.pk: ("image/jpeg", user.pk)}
    assert Image.open(copies[first.pk].file.open("rb")).size == (1280, 50)
    # The earlier copy's file stays (undoing the run puts it back); the failed file did not replace the good copy.
    assert (default_storage.exists(old_file), copies[first.pk].file.name != old_file) == (True, True)


def test_undoing_an_image_run_puts_the_replaced_copy_back_and_removes_the_new_ones(django_capture_on_commit_callbacks):
    from importer.undo import import_run_undo

    group = make_group(slug="prodarch")
    sender = make_member()
    first = make_message(group, sender, at("2018-03-07", "09:38:08"), "", kind=MessageKind.IMAGE, url=URL)
    second = make_message(group, sender, at("2018-03-07", "10:00:00"), "", kind=MessageKind.IMAGE)
    upload_images(group, [("20180307_093808.png", picture(30, 30))], django_capture_on_commit_callbacks)
    before = StoredImage.objects.values().get(message=first)
    run = upload_images(group, [("20180307_093808.png", picture(60, 20)), ("20180307_100000.jpg", picture(10, 10, "JPEG"))],
                        django_capture_on_commit_callbacks)
    new_files = [copy.file.name for copy in StoredImage.objects.all()]
    assert before["file"] not in new_files

    with django_capture_on_commit_callbacks(execute=True):
        import_run_undo(run_id=run.pk)

    assert list(StoredImage.objects.values()) == [before]
    assert default_storage.exists(before["file"])
    assert [default_storage.exists(name) for name in new_files] == [False, False]
    assert ImportRun.objects.get(pk=run.pk).status == "undone"
    assert not StoredImage.objects.filter(message=second).exists()


def test_talk_page_shows_the_stored_copy_after_upload(client, django_capture_on_commit_callbacks):
    cast = make_cast()
    share = make_share(cast.group, cast.speaker.member, visibility=Visibility.PUBLIC)
    message = make_message(cast.group, cast.speaker.member, at("2018-05-20", "19:31:39"), "", kind=MessageKind.IMAGE,
                           url="http://static.cocolian.cn/img/201805/20180520_193139.png")
    TalkMessage.objects.create(share=share, message=message, part=TalkPart.TALK)
    talk = reverse("shares:talk", args=["prodarch", share.pk])
    assert "<img" not in client.get(talk).content.decode()

    upload_images(cast.group, [("20180520_193139.png", picture(1600, 800))], django_capture_on_commit_callbacks)
    # The rendered talk was cached by the first request; its key changes with the talk's stored images.

    html = client.get(talk).content.decode()
    assert f'<img class="stored-image" src="/images/{message.pk}/" alt="[image]" loading="lazy">' in html
    served = client.get(f"/images/{message.pk}/")
    assert (served["Content-Type"], Image.open(io.BytesIO(b"".join(served.streaming_content))).size) == (
        "image/png", (1280, 640))
