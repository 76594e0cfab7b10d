"""The e-mail channel: inbound mail becomes tickets and replies, outgoing
notifications carry the headers that bring the customer's answer back.

- parse:    raw RFC 822 bytes -> ParsedEmail
- clean:    quoted history, signatures and HTML -> the text worth keeping
- detect:   auto-replies, bounces and mail loops, which never open tickets
- receive:  receive_email(raw) -> InboundEmail (the one entry point)
- outgoing: Message-IDs, threading headers, send_ticket_mail

Nothing is imported here on purpose: services imports `outgoing`, and
`receive` imports services, so loading the package must not pull in either.
"""
