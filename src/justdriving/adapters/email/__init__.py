"""Email adapters: SMTP, SendGrid, Mailgun and a local file inbox, plus their webhook parsers.

Each provider has its own module; importing this package imports none of them (nor any SDK).
"""
