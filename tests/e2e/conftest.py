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


# Reported by the page itself, in the main world, before any of its scripts run
# (scripts Playwright adds are not subject to the page's CSP).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation(
    `${location.pathname}: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}` +
    (e.sourceFile ? ` (${e.sourceFile}:${e.lineNumber})` : "")
  );
});
"""


def watch_csp(page) -> list[str]:
    """Record the page's CSP violations (the event and Chromium's console
    message) in the returned list, from the next navigation on."""
    violations: list[str] = []
    page.expose_function("__cspViolation", lambda text: violations.append(text))
    page.add_init_script(REPORT_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return violations
