"""Xero: the Accounting API client, its consent flow, pacing and payloads (no SDK)."""
