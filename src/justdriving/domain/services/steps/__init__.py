"""Shared steps of the use cases and the follow-ups: each imports the domain and the ports only,
never another services module (message_events alone builds on messages)."""
