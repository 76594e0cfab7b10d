"""Routes of the help centre and of the knowledge-base editor, mounted at
/help/ by helpdesk/urls.py (namespace `kb`). The knowledge-base API is mounted
separately, under /api/v1/kb/."""

from django.urls import path

from knowledge_base.views import agents, editor, public
from knowledge_base.views import search as search_views

app_name = "kb"

urlpatterns = [
    # The public help centre (knowledge_base/views/public.py).
    path("", public.home, name="home"),
    path("categories/<slug:slug>/", public.category, name="category"),
    path("categories/<slug:category>/<slug:slug>/", public.section, name="section"),
    path("articles/<slug:slug>/", public.article, name="article"),
    path("articles/<slug:slug>/feedback/", public.feedback, name="feedback"),
    # The editor, for staff (knowledge_base/views/editor.py).
    path("manage/", editor.manage, name="manage"),
    path("manage/new/", editor.new, name="new"),
    path("manage/preview/", editor.preview, name="preview"),
    path("manage/<int:pk>/", editor.edit, name="edit"),
    path("manage/<int:pk>/versions/", editor.versions, name="versions"),
    path("manage/<int:pk>/diff/", editor.diff, name="diff"),
    path("manage/<int:pk>/restore/", editor.restore, name="restore"),
    path("manage/<int:pk>/submit/", editor.submit, name="submit"),
    path("manage/<int:pk>/publish/", editor.publish, name="publish"),
    path("manage/<int:pk>/archive/", editor.archive, name="archive"),
    # Search and the managers' content gaps (knowledge_base/views/search.py).
    path("search/", search_views.search, name="search"),
    path("manage/gaps/", search_views.content_gaps, name="gaps"),
    # Beside a ticket, for agents (knowledge_base/views/agents.py): the ticket
    # panel's suggested articles, and an article drafted from the ticket.
    path("manage/tickets/<int:pk>/articles/", agents.ticket_articles, name="ticket_articles"),
    path("manage/from-ticket/<int:pk>/", agents.from_ticket, name="from_ticket"),
]
