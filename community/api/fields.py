"""Serializer fields and summaries that every app's API shares."""

from __future__ import annotations

import datetime as dt
import operator

from django.utils import timezone
from rest_framework import serializers


class GroupLocalDateTimeField(serializers.DateTimeField):
    """A moment (stored in UTC) written in ISO 8601 in its group's time zone: ``2018-05-20T19:30:00+08:00``.

    Reads the group from ``group_source`` on the object (``group`` by default; a dotted path
    such as ``membership.group`` too), so load it with ``select_related``. Without a group
    (a name recorded outside any group), the site's ``TIME_ZONE``.
    """

    def __init__(self, *, group_source: str = "group", **kwargs):
        self.group_source = operator.attrgetter(group_source)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        moment = super().get_attribute(instance)
        if moment is None:
            return None
        group = self.group_source(instance)
        return moment.astimezone(group.tz if group is not None else timezone.get_default_timezone())

    def enforce_timezone(self, value: dt.datetime) -> dt.datetime:
        # get_attribute put the moment in its group's zone; the default would move it to TIME_ZONE.
        return value if timezone.is_aware(value) else super().enforce_timezone(value)


class KnownNamesField(serializers.ListField):
    """Every name a member was seen under (``Member.names``), distinct and sorted.

    Reads ``names.all()``, so prefetch the names.
    """

    def __init__(self, **kwargs):
        kwargs["child"] = serializers.CharField()
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, data) -> list[str]:
        return sorted({name.name for name in data.all()})


class MemberSummarySerializer(serializers.Serializer):
    """A member as other resources show it (a share's speaker)."""

    id = serializers.IntegerField(read_only=True)
    display_name = serializers.CharField(read_only=True)
    names = KnownNamesField()
