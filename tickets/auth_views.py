"""Log-in and password reset, with limits on guessing (README "Security").

Failed log-ins are counted in the cache under three keys with their own
thresholds (settings.LOGIN_*; why three: helpdesk/settings.py): one account from
one address, one account from anywhere, one address over all accounts. Once a
counter reaches its threshold, attempts it covers are refused for the rest of
the window, even with the right password, with HTTP 429. The same counters
guard our log-in page and the admin's (/admin/login/). Password-reset requests
are counted per e-mail address and per client address, so repeated requests
do not send repeated e-mails.

The cache may be unavailable: a read that misses means "no failures
recorded", and a count that could not be written is lost, never an error.
"""

import hashlib
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import views as django_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

logger = logging.getLogger(__name__)

RATE_LIMITED = "rate_limited"


def client_address(request: HttpRequest | None) -> str:
    """The address limits count: the socket's, or behind the proxy
    (HELPDESK_BEHIND_PROXY) the one the proxy saw, which it appends last to
    X-Forwarded-For (earlier entries are the client's word). An IPv6 address
    counts as its /64, which one subscriber usually holds whole."""
    if request is None:
        return ""
    address = request.META.get("REMOTE_ADDR", "")
    if settings.HELPDESK_BEHIND_PROXY:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded.strip():
            address = forwarded.split(",")[-1].strip()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _digest(value: str) -> str:
    # Cache keys stay short and printable whatever was typed in the form.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Limit:
    name: str  # what it counts, for the log
    key: str
    threshold: int


class Throttle:
    """Counters of one kind of attempt (log-in failures, reset requests) for
    one account and one address, each with its threshold, within a window."""

    def __init__(self, action: str, account: str, address: str, limits: list[Limit], window: int):
        self.action = action
        self.account = account
        self.address = address
        self.limits = limits
        self.window = window

    def reached(self) -> Limit | None:
        """The first limit whose counter has reached its threshold, if any."""
        counts = cache.get_many([limit.key for limit in self.limits])
        for limit in self.limits:
            if (counts.get(limit.key) or 0) >= limit.threshold:
                return limit
        return None

    def count(self) -> None:
        """Count one attempt against every limit; log each limit this attempt
        makes reach its threshold: a lock-out starts."""
        for limit in self.limits:
            cache.add(limit.key, 0, timeout=self.window)
            try:
                value = cache.incr(limit.key)
            except ValueError:
                # The counter is gone: it expired just now, or the cache is
                # down and keeps nothing. Nothing is counted.
                continue
            if value == limit.threshold:
                logger.warning(
                    "%s locked: %d attempts per %s within %d s (account %s, address %s)",
                    self.action,
                    value,
                    limit.name,
                    self.window,
                    self.account or "-",
                    self.address or "-",
                )

    def forget(self, name: str) -> None:
        for limit in self.limits:
            if limit.name == name:
                cache.delete(limit.key)


def login_throttle(email: str, address: str) -> Throttle:
    account = _digest(email)
    return Throttle(
        "log-in",
        email,
        address,
        [
            Limit(
                "account and address",
                f"login-fail:pair:{address}:{account}",
                settings.LOGIN_RATE_LIMIT,
            ),
            Limit("account", f"login-fail:account:{account}", settings.LOGIN_ACCOUNT_LIMIT),
            Limit("address", f"login-fail:address:{address}", settings.LOGIN_ADDRESS_LIMIT),
        ],
        settings.LOGIN_RATE_WINDOW_SECONDS,
    )


def password_reset_throttle(email: str, address: str) -> Throttle:
    return Throttle(
        "password reset",
        email,
        address,
        [
            Limit(
                "account",
                f"reset-request:account:{_digest(email)}",
                settings.PASSWORD_RESET_RATE_LIMIT,
            ),
            Limit(
                "address",
                f"reset-request:address:{address}",
                settings.PASSWORD_RESET_ADDRESS_LIMIT,
            ),
        ],
        settings.PASSWORD_RESET_RATE_WINDOW_SECONDS,
    )


def _minutes(seconds: int) -> int:
    return max(1, (seconds + 59) // 60)


class ThrottledLoginMixin:
    """For a log-in form (ours or the admin's): refuses attempts once a limit
    is reached, counts failures, and forgets the account-and-address count on
    success (the other counters keep counting, so that logging in to one's
    own account does not buy an attacker new guesses)."""

    request: HttpRequest | None
    data: Any

    def clean(self):
        email = (self.data.get("username") or "").strip().lower()
        throttle = login_throttle(email, client_address(self.request))
        if throttle.reached():
            raise forms.ValidationError(
                "Too many failed log-in attempts. For your security, logging in is paused "
                "for up to %(minutes)d minutes. Try again later, or reset your password.",
                code=RATE_LIMITED,
                params={"minutes": _minutes(throttle.window)},
            )
        try:
            cleaned = super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            throttle.count()
            raise
        throttle.forget("account and address")
        return cleaned


class EmailAuthenticationForm(ThrottledLoginMixin, AuthenticationForm):
    """Django's log-in form with the e-mail address as the user name."""

    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class AdminEmailAuthenticationForm(ThrottledLoginMixin, AdminAuthenticationForm):
    """The admin's log-in form (staff only), under the same limits."""


def _refused(form: forms.Form | None, response: HttpResponse) -> HttpResponse:
    """A log-in page answered because a limit refused the attempt: 429."""
    if form is not None and form.has_error(NON_FIELD_ERRORS, RATE_LIMITED):
        response.status_code = 429
        response["Retry-After"] = str(settings.LOGIN_RATE_WINDOW_SECONDS)
    return response


class LoginView(django_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        return _refused(form, super().form_invalid(form))


def admin_login(request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
    """The admin site's own log-in view with our limits (its form is
    AdminEmailAuthenticationForm, set in helpdesk/urls.py), answering 429 when
    they refuse."""
    response = admin.site.login(request, extra_context)
    context = response.context_data if isinstance(response, TemplateResponse) else None
    form = (context or {}).get("form")
    return _refused(form, response)


class PasswordResetView(django_views.PasswordResetView):
    """Django's reset view; a request past a limit sends nothing and gets 429.
    Every request counts, for any address typed, known or not, so the answer
    tells nothing about which addresses have accounts."""

    def form_valid(self, form):
        email = form.cleaned_data["email"].strip().lower()
        throttle = password_reset_throttle(email, client_address(self.request))
        if throttle.reached():
            response = self.render_to_response(
                self.get_context_data(
                    form=form,
                    rate_limited=True,
                    minutes=_minutes(throttle.window),
                )
            )
            response.status_code = 429
            response["Retry-After"] = str(throttle.window)
            return response
        throttle.count()
        return super().form_valid(form)
