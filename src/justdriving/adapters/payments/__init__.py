"""Payment gateway adapters: one package per provider (`stripe`, `paypal`, `mobilepay`), each
behind the PaymentGateway port; the factory and the shared pieces (school gateways, webhook
heads) sit beside them."""
