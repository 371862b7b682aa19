"""OAuth2 for the accounting providers (Xero, QuickBooks), through Authlib: one app's consent
URL, code exchange and refresh (app), the grant kept current and rotated in the GrantStore
(tokens), and the AccountingConsent port (consent). Providers differ only in their Endpoints
and in how the organisation is picked."""
