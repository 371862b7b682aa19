"""Payment gateway adapters: one module per provider, each behind the PaymentGateway port."""
