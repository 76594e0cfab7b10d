"""What tickets announces to the apps built on it (escalation keeps SLA clocks
from these), so that tickets never imports them.

`ticket_event` is sent inside the service's transaction for every history
event a service records, with `ticket` (the instance the service changed) and
`event` (the TicketEvent). A receiver that raises undoes the whole change.
"""

from django.dispatch import Signal

ticket_event = Signal()
