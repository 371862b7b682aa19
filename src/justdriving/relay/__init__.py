"""The relay: performs the outbox rows the use cases wrote, through the ports, at least once
each (claimed with a lease, prepared, sent outside the transaction, recorded; backoff, circuit,
dead letter). It builds on the use cases (`domain/services/`), which never import it.
"""
