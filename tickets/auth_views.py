"""Log-in with e-mail and a rate limit on failed attempts."""

from django import forms
from django.conf import settings
from django.contrib.auth import views as django_views
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache


class EmailAuthenticationForm(AuthenticationForm):
    """Django's log-in form, refusing further attempts once an e-mail address or
    a client address has failed too often within the window."""

    username = forms.EmailField(
        label="E-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "rate_limited": "Too many failed log-in attempts. Please wait a few minutes and try again.",
    }

    def _keys(self) -> list[str]:
        email = (self.data.get("username") or "").strip().lower()
        ip = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        return [f"login-fail:email:{email}", f"login-fail:ip:{ip}"]

    def clean(self):
        keys = self._keys()
        if any((cache.get(k) or 0) >= settings.LOGIN_RATE_LIMIT for k in keys):
            raise forms.ValidationError(self.error_messages["rate_limited"], code="rate_limited")
        try:
            return super().clean()
        except forms.ValidationError:
            for key in keys:
                cache.add(key, 0, timeout=settings.LOGIN_RATE_WINDOW_SECONDS)
                cache.incr(key)
            raise


class LoginView(django_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True
