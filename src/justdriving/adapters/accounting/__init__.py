"""Accounting systems behind the AccountingClient port, over their REST APIs."""
