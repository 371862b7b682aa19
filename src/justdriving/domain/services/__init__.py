"""The use cases, three layers deep: shared steps (`steps/`); use cases and the follow-ups of
each domain event (`followups/`); the reaction table (`reactions.py`) and the inbox
(`inbound.py`). The books are `accounting/`, the read models `views/` (docs/architecture.md,
"Where things live")."""
