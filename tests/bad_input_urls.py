"""The site's URLs plus pages the bad-input test has never been told about
(tests/test_bad_input.py shows it finds and breaks them)."""

from django.http import HttpResponse
from django.urls import path

from helpdesk.urls import urlpatterns as site_urlpatterns


def later_page(request, name):
    # A path parameter, and a query parameter only the view reads.
    int(name) if name.isdigit() else None
    page = request.GET.get("page", "")
    int(page) if page.isdigit() else None
    form = (
        f'<form method="post" action="/later/{name}/save/">'
        '<input name="amount" value="1"><select name="mode">'
        '<option value="plain">plain</option><option value="extra">extra</option>'
        "</select></form>"
    )
    return HttpResponse(f"<html><body>{form}</body></html>")


def later_save(request, name):
    # A field only the page's form sends, and one read only when "mode" is valid.
    amount = request.POST.get("amount", "")
    int(amount) if amount.isdigit() else None
    if request.POST.get("mode") == "extra":
        extra = request.POST.get("extra", "")
        int(extra) if extra.isdigit() else None
    return HttpResponse("saved")


urlpatterns = [
    path("later/<str:name>/", later_page),
    path("later/<str:name>/save/", later_save),
    *site_urlpatterns,
]
