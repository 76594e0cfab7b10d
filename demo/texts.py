"""What the demo tickets say: short template lists per category, filled with
random details, so subjects and conversations read like a real helpdesk.

Templates use `{slot}` placeholders; `Filler` invents a value for each slot
the first time a template asks for it, so only the details a message uses
cost anything.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class CategoryTexts:
    subjects: tuple[str, ...]
    # The body of the customer's first message (the ticket description).
    problems: tuple[str, ...]
    # Agent's first reply when more information is needed (ticket goes pending).
    questions: tuple[str, ...]
    # Customer's answer to a question.
    answers: tuple[str, ...]
    # Agent's public reply that solves the ticket.
    solutions: tuple[str, ...]
    # Internal notes between staff.
    notes: tuple[str, ...]


TEXTS: dict[str, CategoryTexts] = {
    "login": CategoryTexts(
        subjects=(
            "Can't log in since {when}",
            "Password reset e-mail never arrives",
            "Locked out of my account",
            "Login page keeps saying 'invalid credentials'",
            "Two-factor code not accepted",
            "SSO login loops back to the sign-in page",
            "Session expires every few minutes",
            "New team member cannot sign in",
        ),
        problems=(
            "I can't log in to the {area} since {when}. I reset my password twice and the "
            "login page still says my credentials are invalid.",
            "I requested a password reset three times but the e-mail never shows up, not even "
            "in spam. I need to get into the {area} before our {deadline}.",
            "After too many attempts my account is locked. Can you unlock it? I'm sure the "
            "password is right, it's saved in our password manager.",
            "The two-factor code from my authenticator app is rejected every time. The clock "
            "on my phone is correct. Error: {code}.",
            "When I sign in with our company SSO I end up back on the login page, over and "
            "over. It works in {browser} in private mode only.",
        ),
        questions=(
            "Sorry you're locked out. Could you tell me which e-mail address you sign in "
            "with and the exact time of your last attempt? Then I can check the sign-in log.",
            "Thanks for reporting this. Does the problem happen in another browser too? A "
            "screenshot of the error would help me trace it.",
            "I'd like to check your SSO settings. Could your IT admin confirm whether the "
            "identity provider certificate was renewed recently?",
        ),
        answers=(
            "It's the address I wrote from. Last attempt was about {minutes} minutes ago.",
            "Same thing in {browser}. Screenshot attached.",
            "Our IT team says the certificate was renewed on {weekday}.",
        ),
        solutions=(
            "I've unlocked your account and sent a fresh reset link; it is valid for 3 hours. "
            "Our article 'Resetting your password' has the steps if it happens again.",
            "Your mail server was rejecting our reset e-mails. I've sent the link from our "
            "backup sender; please check your inbox now.",
            "The authenticator had drifted out of sync. I've reset two-factor on your account, "
            "so you'll be asked to enrol it again when you sign in.",
            "We updated the SSO certificate on our side to match your new one. Sign-in should "
            "work again; please clear cookies once if it still loops.",
        ),
        notes=(
            "Sign-in log shows {n} failed attempts from two IP addresses. Unlocked after "
            "verifying the requester through the account owner.",
            "Third lockout this month for this org; their SSO cert rotation keeps breaking it.",
            "Reset mails bounced with 550 from their gateway. Used the backup sender.",
        ),
    ),
    "account-verification": CategoryTexts(
        subjects=(
            "How do I verify my account?",
            "Verification e-mail link expired",
            "Account still shows 'unverified'",
            "Verification code not received by SMS",
            "Need to verify a new admin user",
            "ID document upload rejected",
        ),
        problems=(
            "I signed up {when} and the account still says 'unverified', so I can't invite my "
            "colleagues. What do I need to do?",
            "The verification link says it has expired. Can you send a new one?",
            "I uploaded our company registration document twice and it was rejected both "
            "times without a reason.",
            "The SMS with the verification code never arrives. My number is correct in the "
            "profile.",
            "We added a new administrator to our account and she is stuck on the "
            "verification step.",
        ),
        questions=(
            "Happy to help. Could you send the e-mail address of the account to verify and "
            "confirm the company name as it appears on your invoices?",
            "The document needs to show the company name and registration number. Could you "
            "upload a clearer scan or a PDF?",
        ),
        answers=(
            "The address is the one I'm writing from; company name as on the invoice.",
            "I've uploaded a PDF now, hopefully that one is readable.",
            "Sorry, the number had a typo. Fixed it in the profile.",
        ),
        solutions=(
            "Your account is verified now; you can invite your colleagues from Settings > "
            "Team. The article 'Verifying your account' lists the steps for future admins.",
            "I've sent a new verification link, valid for 48 hours.",
            "The document is accepted and the account is verified. Thanks for your patience.",
            "The SMS provider was blocking your carrier. I verified the number manually.",
        ),
        notes=(
            "Verified against the registration number on the invoice address.",
            "SMS provider shows the messages as undeliverable for this carrier.",
        ),
    ),
    "ui-bug": CategoryTexts(
        subjects=(
            "Button on the {area} page does nothing",
            "Layout broken in {browser}",
            "Dropdown menu cut off on small screens",
            "Dark mode makes the text unreadable",
            "Save button greyed out on the {area} form",
            "Page goes blank after clicking 'Export'",
            "Date picker shows the wrong month",
        ),
        problems=(
            "On the {area} page the '{action}' button doesn't do anything in {browser}. No "
            "error, it just doesn't react.",
            "Since the last update the {area} screen overlaps the sidebar in {browser}. "
            "Screenshot attached.",
            "The date picker on the {area} form jumps to the wrong month when I pick a date, "
            "so we keep entering wrong dates.",
            "With dark mode on, the table text on the {area} page is dark grey on black.",
            "Clicking 'Export' on the {area} page gives a blank page instead of a download.",
        ),
        questions=(
            "Thanks for the report. Which browser version are you on, and does it also happen "
            "with browser extensions turned off?",
            "Could you open the browser console (F12) and send us any red error lines you see "
            "when you click the button?",
        ),
        answers=(
            "{browser}, latest version. Same with extensions off.",
            "The console says: {code}. Copied the rest into the attachment.",
        ),
        solutions=(
            "Our developers fixed the {area} page in today's release. Please reload with "
            "Ctrl+F5 and let us know if it still happens.",
            "This was a caching problem after the update. A hard refresh fixes it; we've also "
            "changed the cache headers so it won't recur.",
            "The fix for the date picker is live. Thanks for the detailed report!",
        ),
        notes=(
            "Reproduced in {browser}. Logged for the front-end team as UI-{n}.",
            "Known issue after release {version}; fix is scheduled for this week.",
        ),
    ),
    "billing": CategoryTexts(
        subjects=(
            "Charged twice this month",
            "Invoice {invoice} shows the wrong VAT number",
            "Question about our {plan} plan renewal",
            "Card payment declined but money taken",
            "Need a copy of invoice {invoice}",
            "Refund for unused seats",
            "Upgrade to {plan} not reflected on invoice",
        ),
        problems=(
            "We were charged {amount} twice on {weekday} for the same subscription. Please "
            "refund the duplicate payment.",
            "Invoice {invoice} has our old VAT number. Our finance team needs a corrected "
            "copy before month end.",
            "Our {plan} plan renews next week. Can we reduce the number of seats from {n} "
            "before the renewal?",
            "The card payment failed with an error, but the bank shows {amount} reserved.",
            "We upgraded to {plan} {when} but the last invoice still bills the old plan.",
        ),
        questions=(
            "Sorry about that. Could you send the last four digits of the card and the "
            "transaction date from your bank statement so I can match the payments?",
            "I can change that. Could you confirm the new VAT number and the billing address "
            "it belongs to?",
        ),
        answers=(
            "Card ending {digits}, both charges on {weekday}.",
            "New VAT number is in the attachment, same billing address.",
        ),
        solutions=(
            "I've refunded the duplicate charge of {amount}; it takes 3 to 5 business days to "
            "show on your statement.",
            "Here is the corrected invoice {invoice} with the new VAT number.",
            "Your seats will be reduced at renewal, and the next invoice reflects it.",
            "The reserved amount was released by our payment provider; your bank will drop "
            "it within a few days. The invoice is paid.",
        ),
        notes=(
            "Duplicate charge confirmed in the payment provider dashboard; refund issued.",
            "Finance approved the credit note. Invoice regenerated.",
            "Customer is on legacy pricing; checked with billing before changing seats.",
        ),
    ),
    "data-import": CategoryTexts(
        subjects=(
            "CSV import fails at row {rows}",
            "Import stuck at {percent}%",
            "Imported contacts are duplicated",
            "Dates wrong after import",
            "Excel file rejected: unsupported format",
            "Special characters garbled after import",
            "Scheduled import did not run last night",
        ),
        problems=(
            "Importing {file} stops at row {rows} with 'invalid value'. The row looks fine to "
            "me. The file has about {n} rows.",
            "The import of {file} has been stuck at {percent}% for hours. Can you check what "
            "happened?",
            "After importing our contacts, every record is there twice. We only ran the "
            "import once.",
            "All dates shifted by a month after importing {file}. Our file uses day/month order.",
            "Names with accents come out garbled after the import (é becomes Ã©).",
            "Our nightly import from the SFTP folder didn't run, and the dashboard still shows "
            "yesterday's numbers.",
        ),
        questions=(
            "Could you attach the file (or the first few hundred rows) so we can reproduce "
            "the error?",
            "Which date format and encoding is the file saved in? The import settings "
            "screen lets you choose both.",
        ),
        answers=(
            "Attached the first {rows} rows. It's exported from our old CRM.",
            "It's UTF-8 with semicolons, dates as DD/MM/YYYY.",
        ),
        solutions=(
            "Row {rows} had a line break inside a quoted field. I fixed the file and ran the "
            "import for you; all {n} rows are in.",
            "The import job had stalled on a locked record. I restarted it and it completed.",
            "I removed the duplicates and turned on 'match existing records by e-mail' in "
            "your import settings so it won't happen again.",
            "Setting the date format to DD/MM/YYYY in the import settings fixes it. I re-ran "
            "the import with the right format.",
        ),
        notes=(
            "Import worker log shows a timeout on a locked row. Restarted job {n}.",
            "Encoding detection guessed Latin-1. Forced UTF-8 and re-ran.",
            "Looks like the data-sync fault from last week again; linked to the incident.",
        ),
    ),
    "report-generation": CategoryTexts(
        subjects=(
            "Monthly report is empty",
            "Report export to PDF times out",
            "Scheduled report not e-mailed",
            "Totals in the {report} report don't match",
            "Can't add a custom column to the {report} report",
        ),
        problems=(
            "The {report} report for last month is empty although we have plenty of data in "
            "that period.",
            "Exporting the {report} report to PDF spins for a minute and then fails.",
            "Our scheduled {report} report didn't arrive on {weekday} morning.",
            "The totals in the {report} report are {n} lower than the numbers on the "
            "dashboard. Which one is right?",
        ),
        questions=(
            "Which filters did you use when you ran the report? A screenshot of the filter "
            "panel would help.",
            "Could you send the exact report name and the date range you selected?",
        ),
        answers=(
            "Date range last month, all teams, no other filters.",
            "Screenshot attached. It's the {report} report.",
        ),
        solutions=(
            "The report used the 'closed date' filter instead of 'created date'. With the "
            "right filter the numbers match the dashboard.",
            "Large PDF exports now run in the background; you'll get an e-mail with the file "
            "when it's ready.",
            "The schedule had been paused when your plan changed. It's active again and I "
            "sent this week's report manually.",
        ),
        notes=(
            "Report query exceeded the 60 s limit for this org's volume.",
            "Discrepancy is timezone-related; dashboard uses UTC, report uses local time.",
        ),
    ),
    "api": CategoryTexts(
        subjects=(
            "API returns {status} on {endpoint}",
            "Rate limit hit much earlier than documented",
            "Webhook deliveries stopped",
            "API token suddenly unauthorized",
            "Pagination skips records on {endpoint}",
            "Timeouts calling {endpoint}",
        ),
        problems=(
            "Since {when} our integration gets HTTP {status} from {endpoint}. Nothing changed "
            "on our side. Request id: {code}.",
            "We hit the rate limit after about {n} requests per minute, but the docs say "
            "600. Is our limit different?",
            "Webhook deliveries to our endpoint stopped {when}. The endpoint is up and "
            "answers 200.",
            "Our API token returns 401 since {weekday} although nobody revoked it.",
            "Paging through {endpoint} with the cursor skips some records.",
        ),
        questions=(
            "Could you send a full example request (without the token) and the response "
            "headers, especially X-Request-Id?",
            "Which API version header does your client send?",
        ),
        answers=(
            "Example request and headers attached. X-Request-Id is {code}.",
            "We send version 2023-10 in the header.",
        ),
        solutions=(
            "Our gateway had an outdated rule for {endpoint}. It's fixed and the errors "
            "should stop now.",
            "Your account was still on the old rate limit. I've raised it to 600 requests "
            "per minute.",
            "Webhooks were paused after repeated timeouts. I've re-enabled them and replayed "
            "the missed deliveries.",
            "The cursor bug is fixed in today's release; a full re-sync will fill the gaps.",
        ),
        notes=(
            "Gateway logs show {status} from the upstream for this org only. Escalating with "
            "request ids.",
            "Customer's client retries without backoff; suggested exponential backoff.",
        ),
    ),
    "performance": CategoryTexts(
        subjects=(
            "Everything is very slow today",
            "{area} page takes {seconds} seconds to load",
            "Dashboard times out",
            "Search is extremely slow",
            "Slowness since this morning",
            "Sync running for hours",
        ),
        problems=(
            "The whole application has been very slow since {when}. Opening the {area} page "
            "takes about {seconds} seconds.",
            "Our dashboard times out for everybody in the team. This is blocking our work.",
            "Search takes forever and often returns an error. We have about {n} records.",
            "The data sync has been running for hours and the app is sluggish meanwhile.",
        ),
        questions=(
            "Sorry for the slowness. Is it slow for all users in your team, and since about "
            "what time? Does a different network make a difference?",
            "Could you run the speed check under Help > Diagnostics and send us the result?",
        ),
        answers=(
            "Everyone in the office, since about {time}. Same on mobile data.",
            "Diagnostics result attached.",
        ),
        solutions=(
            "A data-sync job for your account was stuck and held locks on your records. We "
            "stopped it and re-ran it; the pages load normally again.",
            "We moved your account to a less busy database node. Load times are back under "
            "a second.",
            "The slow search came from an index that needed rebuilding after the import. "
            "It's rebuilt and search is fast again.",
        ),
        notes=(
            "p95 latency for this org at {ms} ms. Sync worker stuck on a lock since {time}.",
            "Same pattern as the data-sync fault; engineering has the trace.",
            "DB node at 95% CPU; moved the tenant.",
        ),
    ),
    "feature-request": CategoryTexts(
        subjects=(
            "Feature request: {feature}",
            "Would love {feature}",
            "Any plans for {feature}?",
            "Suggestion: {feature}",
        ),
        problems=(
            "It would really help our team to have {feature}. Right now we work around it "
            "with spreadsheets.",
            "Is {feature} on your roadmap? Our competitor's tool has it and our managers keep "
            "asking.",
            "Small idea: {feature}. It would save us a lot of clicks every day.",
        ),
        questions=(
            "Thanks for the idea! Could you describe how your team would use {feature}, so "
            "the product team understands the use case?",
        ),
        answers=(
            "We'd use it every day for the weekly review with about {n} people.",
            "Mostly our managers, for planning the week.",
        ),
        solutions=(
            "Good news: {feature} is part of today's release. Thanks for suggesting it!",
            "The product team reviewed it and it won't make this year's roadmap. I've "
            "added your vote, and we'll contact you if that changes.",
        ),
        notes=(
            "Added the customer's vote to the roadmap item for {feature}.",
            "{n} customers asked for this; flagged to the product manager.",
        ),
    ),
}

# Customers chasing a ticket nobody has answered yet.
CHASERS = (
    "Any update on this? We're still stuck.",
    "Hello? It's been a while and I haven't heard anything.",
    "Could someone please look at this today?",
    "Just following up, this is still a problem for us.",
)
# Agent replies that acknowledge the issue while the work goes on.
PROGRESS = (
    "Thanks for the details. I can reproduce the problem and I'm working on it now.",
    "I've passed this to our specialists and will update you as soon as I hear back.",
    "I'm still looking into this and will get back to you today.",
)
# Customers confirming the fix (before the agent marks the ticket solved).
CONFIRMATIONS = (
    "That fixed it, thank you!",
    "Works now. Thanks for the quick help.",
    "Great, all good on our side.",
)
# Customers answering after the ticket was solved: the problem is back.
REOPENS = (
    "Unfortunately it's happening again since this morning.",
    "Sorry, this is not fixed. Same error as before.",
    "It worked for a day but now it's broken again.",
)
# Agent solving a pending ticket after the customer went quiet.
NO_REPLY = (
    "We haven't heard back, so I'm marking this solved. Just reply to reopen it.",
    "Closing the loop: I'll set this to solved for now. Reply any time if you still need help.",
)
ON_HOLD = (
    "I've shared this with our product team and put the ticket on hold until the roadmap "
    "review. We'll update you when there's a decision.",
)
ESCALATIONS = (
    "Escalating to Tier {tier}: first-line checks done (account, browser, logs), root cause "
    "looks server-side.",
    "Handing over to Tier {tier}. Customer confirmed the steps; the logs point at the "
    "data-sync service.",
)

GREETINGS = ("Hi", "Hello", "Hi there", "Good morning")
CUSTOMER_SIGNOFFS = ("Thanks", "Thank you", "Best regards", "Cheers", "Kind regards")
AGENT_SIGNOFFS = ("Best regards", "Kind regards", "Thanks")

# Values for the template slots.
SLOT_VALUES: dict[str, tuple[str, ...]] = {
    "area": ("dashboard", "contacts", "invoices", "settings", "reports", "projects", "calendar"),
    "browser": ("Chrome", "Firefox", "Safari", "Edge"),
    "when": ("yesterday", "this morning", "Monday", "last week", "the last update"),
    "weekday": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday"),
    "deadline": ("board meeting", "month-end close", "payroll run", "audit"),
    "action": ("Save", "Export", "Add row", "Share", "Submit"),
    "plan": ("Starter", "Team", "Business", "Enterprise"),
    "report": ("monthly activity", "revenue", "team performance", "pipeline", "usage"),
    "endpoint": ("/v2/contacts", "/v2/invoices", "/v2/projects", "/v2/events", "/v2/users"),
    "status": ("500", "502", "503", "429", "403"),
    "feature": (
        "bulk editing of records",
        "a dark mode",
        "custom fields on invoices",
        "an Outlook calendar sync",
        "saved filters shared with the team",
        "a Slack integration",
        "two-factor login with hardware keys",
        "scheduled exports to S3",
    ),
    "file": ("contacts.csv", "customers_export.xlsx", "orders-q3.csv", "leads.csv"),
    "version": ("4.12", "4.13", "4.14", "5.0"),
    "time": ("08:30", "09:15", "10:00", "11:40", "13:05"),
}


class Filler(dict):
    """Slot values for one ticket, invented on first use from the demo's random
    generator. One filler serves all messages of a ticket, so the subject, the
    description and the replies talk about the same invoice or feature.
    (format_map asks for missing keys in template order: the draws are
    deterministic.)"""

    def __init__(self, rng: random.Random) -> None:
        super().__init__()
        self._rng = rng

    def __missing__(self, key: str) -> str:
        rng = self._rng
        if key in SLOT_VALUES:
            value = rng.choice(SLOT_VALUES[key])
        elif key == "code":
            value = f"E{rng.randrange(1000, 9999)}-{rng.randrange(16**6):06x}"
        elif key == "invoice":
            value = f"INV-{rng.randrange(10000, 99999)}"
        elif key == "amount":
            value = f"${rng.randrange(49, 4999)}.00"
        elif key == "digits":
            value = f"{rng.randrange(10000):04d}"
        elif key == "percent":
            value = str(rng.randrange(5, 99))
        elif key == "seconds":
            value = str(rng.randrange(8, 90))
        elif key == "minutes":
            value = str(rng.randrange(5, 50))
        elif key == "ms":
            value = str(rng.randrange(1200, 9000))
        elif key in ("n", "rows"):
            value = str(rng.randrange(12, 20000))
        else:
            raise KeyError(key)
        self[key] = value
        return value
