"""QuickBooks Online: the batch-endpoint client, its consent flow, pacing and payloads (no SDK)."""
