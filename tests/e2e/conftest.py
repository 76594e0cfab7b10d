"""Shared helpers for the browser tests (the browser and page fixtures live in
tests/conftest.py)."""


def log_in(page, user, password, *, landing_heading: str = "My open tickets"):
    """Log in through the real form and wait for the landing page, so the next
    step does not race the redirect. Staff land on "My open tickets"; pass the
    heading a customer lands on."""
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=landing_heading).wait_for()
