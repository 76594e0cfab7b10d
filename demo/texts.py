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
            "cant login",
            "Login not working",
            "Password not accepted after the reset",
            "Account locked??",
            "2FA problem",
            "Sign-in error {code}",
            "Reset link does not work",
            "Keeps logging me out",
            "Cannot access my account anymore",
            "Login fails on the new laptop",
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
            "cant log in. tried 3 times, it says wrong password but its the right one",
            "Hello, since {when} I am not able to enter in my account, the page shows error "
            "{code}. Please help me, it is urgent for us.",
            "I got a new phone and the authenticator app is gone with the old one, so I can't "
            "get the six-digit code anymore. How do I get back in?",
            "The link in the password reset e-mail opens a page saying the token is invalid. I "
            "clicked it within a minute of getting it.",
            "Every time I sign in it throws me out again after two or three clicks and I'm "
            "back on the sign-in screen.",
            "Our new hire can't sign in with the invitation link we sent {when}; it says the "
            "link was already used.",
            "Signing in works on my phone, but on the office PC in {browser} it spins for a "
            "while and then shows the empty login form again.",
            "We changed our e-mail domain last week and since then nobody here can sign in "
            "with their new address.",
            "The password manager filled in my password, the site said it was wrong, and now "
            "I'm locked for 30 minutes. Can you lift the lock?",
            "Is there a way to reset my password without access to my old work mailbox? I left "
            "that company but the account is mine.",
            "my user name is not recognised anymore, did you delete my user??",
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
            "Verify account",
            "Still waiting for verification",
            "verification stuck",
            "Why is my account not verified yet?",
            "Proof of address rejected",
            "Documents for the company check",
            "Can't finish the identity check",
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
            "we sent our documents {when} and the account is still 'pending review'. how long "
            "does the check usually take?",
            "The verification page asks for a utility bill, but we're a company and only have "
            "the certificate of incorporation. Is that enough?",
            "I never got the confirmation e-mail after signing up, so the banner keeps saying "
            "'please confirm your e-mail address'.",
            "The identity check failed: the name on my ID doesn't match the profile. My "
            "surname has an accent, maybe that is the reason?",
            "Our account was verified last year, but now it asks us to verify again and limits "
            "what we can do. Why?",
            "I typed my mobile number wrong during the verification and now I can't change it "
            "because the account isn't verified.",
            "pls verify our new admin, she can't do anything until its done",
            "Which documents do you accept for the business verification? The help page lists "
            "different ones than the upload form.",
            "Our registration number has a letter in it and the form only accepts digits, so "
            "we can't complete the verification.",
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
            "Button not working",
            "Display issue on {area}",
            "Text overlapping",
            "Scrollbar missing on the {area} page",
            "Dialog won't close",
            "Icons gone after the update",
            "Table columns misaligned",
            "visual glitch",
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
            "the {action} button is hidden behind the chat bubble on the {area} page, can't "
            "click it",
            "After the update the icons in the left menu are just empty squares in {browser}.",
            "On my laptop the 'new contact' window is taller than the screen and I can't reach "
            "the OK button at the bottom.",
            "The columns of the {area} table don't line up with their headers once I scroll "
            "sideways.",
            "When I switch the language to German half of the labels stay English and some "
            "buttons are cut off.",
            "The {area} page jumps back to the top every time I type a letter in the search field.",
            "Clicking the X on the dialog does nothing, I have to reload the whole page to get "
            "rid of it.",
            "Tooltips appear somewhere else on the screen, far away from what I'm hovering.",
            "the checkbox in the {area} list doesn't show a tick when I click it, but the row "
            "gets selected anyway. confusing",
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
            "Invoice question",
            "Wrong amount charged",
            "Why did our bill go up?",
            "cancel subscription + refund",
            "Change the billing e-mail",
            "Payment failed",
            "Tax missing on invoice",
            "Price for extra seats",
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
            "Why is this month's invoice {amount}? We didn't add any users.",
            "pls send the invoices to our accounts team from now on instead of to me",
            "We want to cancel at the end of the term. Do we get money back for the months we "
            "won't use?",
            "Our card expired and the last payment failed. Where do I update the card so that "
            "the account isn't suspended?",
            "Invoice {invoice} is missing our PO number and accounts payable won't pay it "
            "without one.",
            "Can you move us from monthly to yearly billing, and what would the price be for "
            "{n} seats?",
            "We were charged in dollars but our contract says euros.",
            "Got a reminder that invoice {invoice} is overdue, but we paid it on {weekday}. "
            "The bank reference is attached.",
            "Do you offer a discount for charities? We're a registered non-profit on the "
            "{plan} plan.",
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
            "import error",
            "Upload of {file} failed",
            "Import skipped half the rows",
            "Mapping columns during import",
            "Bulk upload not working",
            "Duplicates after the CSV upload",
            "Moving our data from the old system",
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
            "uploaded {file}, it said finished but only part of the {n} records are there",
            "The import wizard won't let me map our 'Company' column, it isn't in the dropdown.",
            "We're moving over from our old CRM and need to bring about {n} contacts with "
            "their notes. What's the best way to do that?",
            "The import fails with 'file too large'. The file is 40 MB; can we split it or can "
            "you raise the limit?",
            "Phone numbers lost their leading zero after the import.",
            "The import says 'missing required field: email', but every row has an e-mail address.",
            "Can I undo an import? I uploaded the wrong file and it overwrote our addresses.",
            "bulk upload stuck on 'processing' since {when}, and I can't start another one",
            "Our {file} has a header row in two lines and the importer reads the second line "
            "as data.",
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
            "Report shows wrong numbers",
            "Can't download the report",
            "Report missing data for {weekday}",
            "Weekly report",
            "Export a report to Excel",
            "Help with a custom report",
            "Report filters reset",
        ),
        problems=(
            "The {report} report for last month is empty although we have plenty of data in "
            "that period.",
            "Exporting the {report} report to PDF spins for a minute and then fails.",
            "Our scheduled {report} report didn't arrive on {weekday} morning.",
            "The totals in the {report} report are {n} lower than the numbers on the "
            "dashboard. Which one is right?",
            "the {report} report shows zero for last week, but we closed plenty of deals",
            "How do I build a report with revenue per region per month? I only get the totals.",
            "When I export the {report} report to Excel the dates come out as text and I can't "
            "sort them.",
            "The report filters reset every time I open the report again, I have to pick the "
            "team every single time.",
            "Figures in the {report} report changed for a month that is already closed. Did "
            "something recalculate?",
            "Can the {report} report go to three people automatically every Monday morning?",
            "The chart in the {report} report only shows the first 10 entries, where is the rest?",
            "I need last quarter's {report} report as a PDF for the {deadline} and the "
            "download button gives me an empty file.",
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
            "API error",
            "Webhook not firing",
            "401 unauthorized",
            "Question about API limits",
            "Integration broken since {when}",
            "Docs for {endpoint}",
            "OAuth token refresh fails",
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
            "our integration gets {status} from {endpoint} since around {time}, request id {code}",
            "Is there an endpoint that returns invoices created after a given date? The docs "
            "only show paging.",
            "The OAuth refresh token stops working after 24 hours, so our nightly sync breaks.",
            "webhooks arrive twice for the same event and our system creates duplicates",
            "The API returns timestamps without a time zone. Are they UTC?",
            "Our developer says the sandbox key works but the production key gets 403 on "
            "{endpoint}.",
            "The Zapier connection shows 'authentication failed' since {when}.",
            "What's the maximum page size on {endpoint}? We need to pull about {n} records a day.",
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
            "very slow",
            "App lagging",
            "Loading forever",
            "Slow since the update",
            "Timeouts",
            "Performance problems on {area}",
        ),
        problems=(
            "The whole application has been very slow since {when}. Opening the {area} page "
            "takes about {seconds} seconds.",
            "Our dashboard times out for everybody in the team. This is blocking our work.",
            "Search takes forever and often returns an error. We have about {n} records.",
            "The data sync has been running for hours and the app is sluggish meanwhile.",
            "everything is sooo slow today, every click takes like {seconds} sec",
            "Since the update the {area} page takes ages to open; the spinner turns for half a "
            "minute.",
            "Saving a record takes {seconds} seconds. It used to be instant.",
            "Our colleagues in the Singapore office say the app is unusable in their "
            "afternoon, while it's fine for us here.",
            "The mobile app freezes when I open a list with a lot of items.",
            "We get 'request timed out' when we open the {area} page with more than a year of "
            "data in it.",
            "Is there an outage? Pages have been loading very slowly for all of us since {time}.",
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
            "Idea",
            "Can you add {feature}?",
            "Request: {feature}",
            "Missing feature",
            "It would be great to have {feature}",
            "Product feedback",
        ),
        problems=(
            "It would really help our team to have {feature}. Right now we work around it "
            "with spreadsheets.",
            "Is {feature} on your roadmap? Our competitor's tool has it and our managers keep "
            "asking.",
            "Small idea: {feature}. It would save us a lot of clicks every day.",
            "would be great if we could have {feature}, is that planned at all?",
            "We'd happily pay extra for {feature}. Is it on the roadmap?",
            "Feedback from our team: {feature} would make the weekly planning much easier.",
            "Not a bug, just a wish: {feature}.",
            "Is it possible to get {feature}? If not, is there a workaround?",
            "Please consider {feature}. Three of our departments asked me for it this month.",
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


# --- how customers write the first message ---------------------------------------
#
# A demo where every ticket is one clean template of its category teaches a
# classifier nothing: it scored 1.0000. Real requests are vague, mix two
# topics, fit two categories, come in lower case and with typos, and have
# subjects like "Help". These shares (of all tickets) put the demo's
# classifier in the 0.8s, a figure that means something (README,
# "Classification").
VAGUE_SHARE = 0.05  # says nothing about its topic ("it's not working again")
AMBIGUOUS_SHARE = 0.18  # fits two categories; the person who filed it chose one
MIXED_SHARE = 0.15  # a request of its category plus an aside about another topic
CONTEXT_SHARE = 0.35  # a sentence any ticket might have ("We're on the Team plan.")
GENERIC_SUBJECT_SHARE = 0.12  # "Help", "Question", "(no subject)"
CASUAL_SHARE = 0.15  # all lower case, no apostrophes
TYPO_SHARE = 0.3  # some words misspelt ...
TYPO_RATE = 0.08  # ... this share of the longer words

# Requests that fit two categories as well as each other: (one, other, subject,
# problem). A ticket of either category may say this.
AMBIGUOUS: tuple[tuple[str, str, str, str], ...] = (
    (
        "login",
        "account-verification",
        "Can't get into my account",
        "I signed up {when} but I can't get into my account, it keeps asking me to confirm "
        "something first.",
    ),
    (
        "login",
        "account-verification",
        "Code never arrives",
        "The code you text me never arrives, so I'm stuck on that screen.",
    ),
    (
        "login",
        "ui-bug",
        "Sign in button does nothing",
        "The 'Sign in' button doesn't react at all when I click it in {browser}.",
    ),
    (
        "login",
        "performance",
        "Sign-in takes ages",
        "Logging in takes more than a minute and sometimes ends with an error.",
    ),
    (
        "login",
        "api",
        "Token keeps expiring",
        "Our token keeps expiring and we have to sign in again every hour or so.",
    ),
    (
        "ui-bug",
        "performance",
        "The {area} page freezes",
        "The {area} page freezes for a few seconds whenever I scroll down, then the layout "
        "jumps around.",
    ),
    (
        "ui-bug",
        "feature-request",
        "Can't sort the table",
        "There's no way to sort the {area} table by date. Is that a bug or is it just not there?",
    ),
    (
        "ui-bug",
        "data-import",
        "Upload button missing",
        "I can't find the button to upload CSV files on the {area} page any more.",
    ),
    (
        "ui-bug",
        "report-generation",
        "Chart looks wrong",
        "The chart on the {area} page shows bars for days that have no data at all.",
    ),
    (
        "report-generation",
        "performance",
        "Report takes forever",
        "The {report} report never finishes loading, I gave up after ten minutes.",
    ),
    (
        "report-generation",
        "billing",
        "Invoice totals don't match",
        "The invoice totals in the {report} report don't match what you charged us.",
    ),
    (
        "report-generation",
        "data-import",
        "Data missing",
        "Some of our data has been missing since {when}; all the numbers are lower than before.",
    ),
    (
        "report-generation",
        "feature-request",
        "Need a report per customer",
        "We need a report of tickets per customer per month. Is that possible somehow?",
    ),
    (
        "data-import",
        "api",
        "Contact sync failing",
        "Our contact sync from the other system fails halfway with error {code}.",
    ),
    (
        "data-import",
        "performance",
        "Upload very slow",
        "Uploading {file} has been running for an hour and the app is sluggish meanwhile.",
    ),
    (
        "billing",
        "account-verification",
        "Payment blocked",
        "I tried to pay for the {plan} plan but it says our account has to be confirmed first.",
    ),
    (
        "billing",
        "feature-request",
        "Plan question",
        "Does the {plan} plan include {feature}, or do we need to upgrade for that?",
    ),
    (
        "api",
        "performance",
        "API very slow",
        "Calls to {endpoint} take {seconds} seconds and sometimes time out.",
    ),
    (
        "api",
        "feature-request",
        "Endpoint for bulk updates?",
        "Is there a way to update many records in one API call? Doing it one by one is too "
        "slow for us.",
    ),
    (
        "account-verification",
        "ui-bug",
        "Verify button does nothing",
        "The 'Verify now' button on the yellow banner does nothing, and the account stays limited.",
    ),
)

# Requests that say nothing about their topic; a person files them after
# asking or by the customer's history.
VAGUE: tuple[tuple[str, str], ...] = (
    ("Not working", "Hi, it's not working again. Can someone call me back?"),
    ("Problem", "We have a problem with the system since {when}, please advise."),
    ("Help!!", "help please, nothing works"),
    ("Question", "Quick question: who can I talk to about our account?"),
    ("Error", "I get an error {code}. What does it mean?"),
    ("Please call me", "Please contact me today about our setup, it's important."),
    ("Follow-up", "Following up on our phone call {when}, as discussed."),
    ("Issue", "Same issue as last time, see my previous ticket."),
)

# An aside about another topic, added to a request of its own category.
ASIDE_OPENERS = ("Also, ", "PS: ", "Unrelated, but ", "And while I have you: ", "Btw ")
ASIDES: dict[str, tuple[str, ...]] = {
    "login": (
        "my colleague keeps getting logged out, not sure if it's related.",
        "the password reset mail took an hour to arrive yesterday.",
    ),
    "account-verification": (
        "our second admin still isn't verified.",
        "the banner still asks us to verify the account.",
    ),
    "ui-bug": (
        "the Save button on the settings page is half hidden on my laptop.",
        "the menu icons look broken in {browser}.",
    ),
    "billing": (
        "could you resend last month's invoice?",
        "our VAT number on the invoices is outdated.",
    ),
    "data-import": (
        "our last CSV import created duplicates.",
        "the import of {file} never finished.",
    ),
    "report-generation": (
        "the {report} report didn't arrive this week.",
        "the totals on the dashboard and in the report differ.",
    ),
    "api": (
        "our webhook deliveries look delayed.",
        "we got a few {status} errors from the API this morning.",
    ),
    "performance": (
        "the app has been quite slow for us today.",
        "the {area} page takes a long time to load.",
    ),
    "feature-request": (
        "it would be nice to have {feature} one day.",
        "any news on {feature}?",
    ),
}

# Said by requests of any category.
CONTEXT = (
    "We're on the {plan} plan.",
    "About {n} people in our company use it.",
    "I'm on {browser}.",
    "Nothing changed on our side as far as I know.",
    "It's the third time this month.",
    "Screenshot attached.",
    "My manager asked me to report this.",
    "Can you have a look today please?",
)
GENERIC_SUBJECTS = (
    "Help",
    "Question",
    "Problem",
    "Support request",
    "Issue with our account",
    "(no subject)",
    "Urgent",
    "Hello",
)
OPENERS = (
    "Hi,",
    "Hello,",
    "Hi there,",
    "Good morning,",
    "Dear support team,",
    "hey",
    "Hello team,",
)

_AMBIGUOUS_BY_SLUG: dict[str, tuple[tuple[str, str], ...]] = {
    slug: tuple((subject, problem) for a, b, subject, problem in AMBIGUOUS if slug in (a, b))
    for slug in TEXTS
}
_OTHER_SLUGS = {slug: tuple(other for other in TEXTS if other != slug) for slug in TEXTS}


def customer_request(
    rng: random.Random, slug: str, filler: Filler, first_name: str
) -> tuple[str, str]:
    """The subject and first message of a ticket of category `slug`, written
    the way customers write (see the shares above)."""
    draw = rng.random()
    ambiguous = _AMBIGUOUS_BY_SLUG[slug]
    if draw < VAGUE_SHARE:
        subject, body = rng.choice(VAGUE)
    elif draw < VAGUE_SHARE + AMBIGUOUS_SHARE and ambiguous:
        subject, body = rng.choice(ambiguous)
    else:
        words = TEXTS[slug]
        subject, body = rng.choice(words.subjects), rng.choice(words.problems)
        if rng.random() < MIXED_SHARE:
            aside = rng.choice(ASIDES[rng.choice(_OTHER_SLUGS[slug])])
            body = f"{body} {rng.choice(ASIDE_OPENERS)}{aside}"
    if rng.random() < CONTEXT_SHARE:
        body = f"{body} {rng.choice(CONTEXT)}"
    if rng.random() < GENERIC_SUBJECT_SHARE:
        subject = rng.choice(GENERIC_SUBJECTS)
    subject, body = subject.format_map(filler), body.format_map(filler)
    if rng.random() < TYPO_SHARE:
        subject, body = misspell(rng, subject, TYPO_RATE), misspell(rng, body, TYPO_RATE)
    parts = [body]
    if rng.random() < 0.75:
        parts.insert(0, rng.choice(OPENERS))
    if rng.random() < 0.7:
        parts.append(f"{rng.choice(CUSTOMER_SIGNOFFS)},\n{first_name}")
    else:
        parts.append(first_name)
    description = "\n\n".join(parts)
    if rng.random() < CASUAL_SHARE:
        subject, description = casual(subject), casual(description)
    return subject, description


def casual(text: str) -> str:
    """Written in a hurry: lower case, no apostrophes."""
    return text.lower().replace("'", "")


def misspell(rng: random.Random, text: str, rate: float) -> str:
    """Typos in about `rate` of the words of four letters or more: two letters
    swapped, one dropped or one doubled."""
    words = text.split(" ")
    for i, word in enumerate(words):
        if len(word) > 3 and word.isalpha() and rng.random() < rate:
            j = rng.randrange(1, len(word) - 1)
            kind = rng.randrange(3)
            if kind == 0:
                word = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
            elif kind == 1:
                word = word[:j] + word[j + 1 :]
            else:
                word = word[:j] + word[j] + word[j:]
            words[i] = word
    return " ".join(words)


def confusable(slug: str) -> tuple[str, ...]:
    """The categories whose requests can read like those of `slug` (AMBIGUOUS)."""
    return tuple(
        sorted({b if a == slug else a for a, b, _subject, _problem in AMBIGUOUS if slug in (a, b)})
    )
