"""Who is who: suggested name links, merges and splits, under /g/<group_slug>/names/."""

from django.urls import path

from community.placeholder import not_yet

urlpatterns = [
    path("", not_yet, name="name_links"),
    path("links/<int:pk>/decide/", not_yet, name="name_link_decide"),
    path("merge/", not_yet, name="member_merge"),
    path("split/", not_yet, name="member_split"),
]
