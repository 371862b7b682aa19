"""Read models: invoices, payments, balances and disputes at a glance, the payer's page, the
directory and the ops page; they read, they never change anything."""
