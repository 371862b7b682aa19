"""What each domain event sets off: the follow-ups the reaction table (`reactions.py`) registers
with the unit of work, built from the shared steps."""
