"""SMS providers behind the SmsSender port, and their webhook parsers.

Each module imports its own SDK or HTTP library; import the one you use (the container does):
`justdriving.adapters.sms.twilio`, `justdriving.adapters.sms.gatewayapi` and their `_webhooks`.
"""
