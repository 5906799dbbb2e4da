"""Who is who: suggested name links, merges and splits, under /g/<group_slug>/names/."""

from django.urls import path

from community import identity_views

urlpatterns = [
    path("", identity_views.name_links, name="name_links"),
    path("links/<int:pk>/decide/", identity_views.name_link_decide, name="name_link_decide"),
    path("merge/", identity_views.member_merge, name="member_merge"),
    path("split/", identity_views.member_split_view, name="member_split"),
]
