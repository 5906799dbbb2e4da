"""Upload forms: they check the shape of the upload (names, sizes, how many); whether a file
is a transcript, a member list or an image is for the import to say, file by file."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .images import IMAGE_SUFFIXES
from .services import TRANSCRIPT_SUFFIXES

ROSTER_SUFFIXES = {".csv", ".txt"}


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field (``<input type="file" multiple>``): a list of uploaded files."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data] or super().clean(None, initial)
        return [super().clean(data, initial)]


class UploadForm(forms.Form):
    """Files of one kind; ``entries`` after validation: (name, bytes), a zip's files expanded."""

    kind = ""
    suffixes: set[str] = set()
    accept_zip = True
    max_files: int | None = None

    def limits(self) -> tuple[int, int]:
        return settings.IMPORT_UPLOAD_MAX_BYTES, settings.IMPORT_REQUEST_MAX_BYTES

    def clean_files(self):
        per_file, per_request = self.limits()
        uploaded = self.cleaned_data["files"]
        total = sum(f.size for f in uploaded)
        if total > per_request:
            raise forms.ValidationError(_("These files make %(size)s together: an upload may be at most %(limit)s.")
                                        % {"size": filesizeformat(total), "limit": filesizeformat(per_request)})
        entries: list[tuple[str, bytes]] = []
        for upload in uploaded:
            suffix = PurePosixPath(upload.name).suffix.lower()
            if self.accept_zip and suffix == ".zip":
                entries.extend(self._unzip(upload, per_file, per_request))
                continue
            if suffix not in self.suffixes:
                raise forms.ValidationError(self._suffix_error(upload.name))
            if upload.size > per_file:
                raise forms.ValidationError(self._size_error(upload.name, upload.size, per_file))
            entries.append((upload.name, upload.read()))
        if not entries:
            raise forms.ValidationError(_("The zip file holds none of the files expected (%(suffixes)s).")
                                        % {"suffixes": ", ".join(sorted(self.suffixes))})
        if self.max_files is not None and len(entries) > self.max_files:
            raise forms.ValidationError(_("Upload one file only."))
        if sum(len(data) for _name, data in entries) > per_request:
            raise forms.ValidationError(_("The files unpacked make more than %(limit)s: an upload may be at most that.")
                                        % {"limit": filesizeformat(per_request)})
        self.cleaned_data["entries"] = entries
        return uploaded

    def _unzip(self, upload, per_file: int, per_request: int) -> list[tuple[str, bytes]]:
        """A zip's files of the expected kinds, in name order; sizes checked against what each
        entry declares before it is unpacked (zip bombs), and the read bounded by it."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(upload.read()))
            infos = sorted(
                (i for i in archive.infolist() if not i.is_dir() and not _hidden(i.filename)
                 and PurePosixPath(i.filename).suffix.lower() in self.suffixes),
                key=lambda i: i.filename,
            )
            if sum(i.file_size for i in infos) > per_request:
                raise forms.ValidationError(_("The files in %(name)s make more than %(limit)s: an upload may be at most that.")
                                            % {"name": upload.name, "limit": filesizeformat(per_request)})
            entries = []
            for info in infos:
                name = f"{upload.name}/{info.filename}"
                if info.file_size > per_file:
                    raise forms.ValidationError(self._size_error(name, info.file_size, per_file))
                with archive.open(info) as handle:
                    entries.append((name, handle.read(per_file + 1)))
            return entries
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError, OSError):
            raise forms.ValidationError(_("%(name)s is not a zip file that can be read.") % {"name": upload.name}) from None

    def _suffix_error(self, name: str) -> str:
        allowed = ", ".join(sorted(self.suffixes | ({".zip"} if self.accept_zip else set())))
        return _("%(name)s: only these files are accepted here: %(suffixes)s.") % {"name": name, "suffixes": allowed}

    @staticmethod
    def _size_error(name: str, size: int, limit: int) -> str:
        return _("%(name)s is %(size)s: a file may be at most %(limit)s.") % {
            "name": name, "size": filesizeformat(size), "limit": filesizeformat(limit)}

    def options(self) -> dict:
        return {}


def _hidden(path: str) -> bool:
    """Folders and files that archivers add (``__MACOSX/``, ``.DS_Store``), not the user's files."""
    return any(part.startswith((".", "__MACOSX")) for part in PurePosixPath(path).parts)


class TranscriptsForm(UploadForm):
    kind = "transcripts"
    suffixes = TRANSCRIPT_SUFFIXES

    files = MultipleFileField(label=gettext_lazy("Transcript files"),
                              help_text=gettext_lazy("Daily transcripts (.md, .markdown, .txt), several at once, or a .zip of them."))
    me = forms.CharField(label=gettext_lazy("Exported by"), required=False, max_length=200,
                         help_text=gettext_lazy("The member who exported the files: their messages show as 我."))

    def options(self) -> dict:
        return {"me": self.cleaned_data["me"]}


class RosterForm(UploadForm):
    kind = "roster"
    suffixes = ROSTER_SUFFIXES
    accept_zip = False
    max_files = 1

    files = MultipleFileField(label=gettext_lazy("Member list"),
                              help_text=gettext_lazy("The group's member list exported as CSV (columns NickName and DisplayName)."),
                              widget=forms.ClearableFileInput())
    mark_missing_left = forms.BooleanField(label=gettext_lazy("Members missing from the list have left the group"),
                                           required=False)

    def options(self) -> dict:
        return {"mark_missing_left": self.cleaned_data["mark_missing_left"]}


class ImagesForm(UploadForm):
    kind = "images"
    suffixes = IMAGE_SUFFIXES

    files = MultipleFileField(label=gettext_lazy("Image files"),
                              help_text=gettext_lazy("The exported image folder: files named by the message's time (20180307_093808.png), several at once, or a .zip of the folder."))

    def limits(self) -> tuple[int, int]:
        return settings.IMAGE_MAX_BYTES, settings.IMAGE_REQUEST_MAX_BYTES


UPLOAD_FORMS = {form.kind: form for form in (TranscriptsForm, RosterForm, ImagesForm)}
