"""SMS providers behind the SmsSender port, and their webhook parsers.

One package per provider (`twilio`, `gatewayapi`), each with its sender and its webhooks;
importing this package imports none of them, and a provider package loads its SDK or HTTP
library only when one of its names is used (the factory does that).
"""
