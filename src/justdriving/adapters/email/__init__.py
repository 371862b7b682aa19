"""Email adapters: SMTP, SendGrid, Mailgun and a local file inbox, plus their webhook parsers.

One package per provider (`smtp`, `sendgrid`, `mailgun`); importing this package imports none
of them (nor any SDK). `mime` builds and checks what every sender sends.
"""
