"""The host application's endpoint for domain events (`factory.host_event_sender`)."""
