"""The exported image folder: each file checked to be an image, resized for the page, matched
to its image message and stored as the message's copy (``community.models.StoredImage``).

Files are named by the message's time (``20180307_093808.png``); the record keeps the image's
original link, which usually ends with that same name. A file is matched to the group's image
message whose link ends with its name, else to the one sent at the time the name says (in the
group's time zone); a file that matches none, or several, is reported and stored nowhere.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import struct
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from community.models import Group, Message, MessageKind, StoredImage

from .journal import RunJournal

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
# Pillow's format name -> how the copy is stored. A GIF keeps its first frame only, as a PNG:
# the folder holds screenshots and photos, and an animation is many times the pixels to check.
_OUTPUT = {"PNG": ("PNG", "image/png", "png"), "JPEG": ("JPEG", "image/jpeg", "jpg"),
           "GIF": ("PNG", "image/png", "png"), "WEBP": ("WEBP", "image/webp", "webp")}
_TIME_NAME = re.compile(r"(\d{8})_(\d{6})")


class ImageError(ValueError):
    """A file that is not an image this app stores; the message says ``file:0: reason``."""


@dataclass(frozen=True)
class PreparedImage:
    content: bytes
    content_type: str
    extension: str
    width: int
    height: int


def image_prepare(data: bytes, *, name: str, max_pixels: int | None = None, max_width: int | None = None) -> PreparedImage:
    """The page's copy of an uploaded image: checked to be a PNG, JPEG, GIF or WebP whose
    content says so (not its name), no larger than ``max_pixels``, turned upright, at most
    ``max_width`` wide (aspect kept), re-encoded without its metadata (EXIF: camera, place).
    Anything else raises ``ImageError``."""
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
    max_width = max_width or settings.IMAGE_MAX_WIDTH
    try:
        with warnings.catch_warnings():
            # Pillow only warns between its own limit and twice it: here any excess is refused.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                kind, (width, height) = probe.format, probe.size
                if kind not in _OUTPUT:
                    raise ImageError(f"{name}:0: {kind} images are not accepted (PNG, JPEG, GIF or WebP only)")
                if width * height > max_pixels:
                    raise ImageError(f"{name}:0: {width}×{height} pixels is more than the {max_pixels} allowed")
                probe.verify()
            # verify() leaves the image unusable: it is opened again to be decoded.
            with Image.open(io.BytesIO(data)) as image:
                image.seek(0)
                image.load()
                picture = ImageOps.exif_transpose(image)
    except ImageError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"{name}:0: not an image (PNG, JPEG, GIF or WebP)") from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error) as error:
        raise ImageError(f"{name}:0: the image is damaged ({error or type(error).__name__})") from None
    output, content_type, extension = _OUTPUT[kind]
    if picture.width > max_width:
        height = max(1, round(picture.height * max_width / picture.width))
        picture = picture.resize((max_width, height), Image.Resampling.LANCZOS)
    if output == "JPEG" and picture.mode not in ("RGB", "L"):
        picture = picture.convert("RGB")
    elif output != "JPEG" and picture.mode not in ("RGB", "RGBA", "L", "LA", "P"):
        picture = picture.convert("RGBA")
    buffer = io.BytesIO()
    options = {"quality": 85, "optimize": True} if output in ("JPEG", "WEBP") else {"optimize": True}
    picture.save(buffer, format=output, **options)
    return PreparedImage(buffer.getvalue(), content_type, extension, picture.width, picture.height)


@dataclass(frozen=True)
class Match:
    message_id: int | None
    reason: str = ""  # why there is no single message: "unmatched" or "ambiguous"
    candidates: tuple[int, ...] = ()


def _basename(url: str) -> str:
    return url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1].casefold()


def _name_time(name: str, tz) -> dt.datetime | None:
    found = _TIME_NAME.search(name)
    if not found:
        return None
    try:
        return dt.datetime.strptime("".join(found.groups()), "%Y%m%d%H%M%S").replace(tzinfo=tz)
    except ValueError:
        return None


def image_messages_match(*, group: Group, names: Iterable[str]) -> dict[str, Match]:
    """Each file name's image message in the group: by the link's file name, else by the time
    in the name. One query, whatever the number of files."""
    names = list(names)
    by_name: dict[str, list[int]] = {}
    by_time: dict[dt.datetime, list[int]] = {}
    rows = Message.objects.filter(group=group, kind=MessageKind.IMAGE).order_by("sent_at", "id")
    for pk, url, sent_at in rows.values_list("pk", "url", "sent_at"):
        if url:
            by_name.setdefault(_basename(url), []).append(pk)
        by_time.setdefault(sent_at, []).append(pk)
    found = {}
    for name in names:
        candidates = by_name.get(name.rsplit("/", 1)[-1].casefold())
        if not candidates:
            moment = _name_time(name.rsplit("/", 1)[-1], group.tz)
            candidates = by_time.get(moment) if moment else None
        if not candidates:
            found[name] = Match(None, "unmatched")
        elif len(candidates) > 1:
            found[name] = Match(None, "ambiguous", tuple(candidates))
        else:
            found[name] = Match(candidates[0])
    return found


def stored_image_replace(*, message_id: int, image: PreparedImage, name: str, user=None, journal=None) -> bool:
    """Store ``image`` as the message's copy, replacing an earlier one. Returns whether there was
    an earlier copy. With the run's ``journal`` (``importer.journal.RunJournal``), the earlier
    copy's row is kept and its file stays, so that undoing the run puts it back; without one,
    the earlier file is deleted once the new row has committed."""
    stem = name.rsplit("/", 1)[-1].rsplit(".", 1)[0][:80] or "image"
    path = default_storage.save(
        timezone.now().strftime(f"images/%Y/%m/{stem}.{image.extension}"), ContentFile(image.content)
    )
    try:
        with transaction.atomic():
            copy = StoredImage.objects.select_for_update().filter(message_id=message_id).first()
            previous = copy.file.name if copy else None
            if copy is not None and journal is not None:
                journal.before([copy])
            created = copy is None
            copy = copy or StoredImage(message_id=message_id)
            copy.file.name = path
            copy.content_type = image.content_type
            copy.uploaded_at = timezone.now()
            copy.uploaded_by = user
            copy.save()
            if created and journal is not None:
                journal.created(StoredImage, [copy.pk])
            if previous and previous != path and journal is None:
                transaction.on_commit(lambda: default_storage.delete(previous))
    except Exception:
        default_storage.delete(path)  # nothing half-written: no file without its row
        raise
    return previous is not None


@dataclass
class ImagesResult:
    files: list[dict]
    errors: list[str]
    counts: dict[str, int]


def images_store(*, group: Group, sources: Iterable, user=None,
                 progress: Callable[[int, str], None] | None = None, run_id: int | None = None) -> ImagesResult:
    """Store each image file (``.label``, ``.read()``) as its message's copy. Each file alone:
    one that is not an image, matches no message or several, is reported with its reason
    (``file:0: reason``) and the others are stored. ``progress(index, label)`` before each.
    ``run_id``: the import run, whose journal keeps the copies replaced (undo puts them back)."""
    journal = RunJournal(run_id) if run_id is not None else None
    sources = list(sources)
    matches = image_messages_match(group=group, names=[s.label for s in sources])
    counts = {"files_read": 0, "images_stored": 0, "images_replaced": 0, "files_unmatched": 0,
              "files_ambiguous": 0, "files_failed": 0}
    files, errors = [], []
    for index, source in enumerate(sources, start=1):
        if progress:
            progress(index, source.label)
        counts["files_read"] += 1
        report = {"file": source.label, "status": "failed"}
        files.append(report)
        match = matches[source.label]
        if match.message_id is None:
            if match.reason == "ambiguous":
                ids = ", ".join(map(str, match.candidates))
                error = f"{source.label}:0: {len(match.candidates)} image messages match this name (ids {ids})"
            else:
                error = f"{source.label}:0: no image message of the group has this name or was sent at the time it says"
            counts[f"files_{match.reason}"] += 1
            report.update(status=match.reason, error=error)
            errors.append(error)
            continue
        try:
            image = image_prepare(source.read(), name=source.label)
            replaced = stored_image_replace(message_id=match.message_id, image=image, name=source.label, user=user,
                                            journal=journal)
        except (ImageError, OSError) as error:
            reason = str(error) if isinstance(error, ImageError) else f"{source.label}:0: could not be stored: {error}"
            if not isinstance(error, ImageError):
                logger.exception("storing the image %s failed", source.label)
            counts["files_failed"] += 1
            report.update(error=reason, message=match.message_id)
            errors.append(reason)
            continue
        counts["images_replaced" if replaced else "images_stored"] += 1
        report.update(status="replaced" if replaced else "stored", message=match.message_id,
                      width=image.width, height=image.height)
    return ImagesResult(files=files, errors=errors, counts=counts)
