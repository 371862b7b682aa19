"""The reviewed allow-list: differences from a provider's spec that are the spec's own errors.

Each entry names the provider, the operation (or webhook), the part, a regular expression the
problem's message must match, and why: the spec's own contradiction, cited. Keep it short; an
entry that no exchange used is reported, so a fixed spec (or simulator) retires its entry.
"""

from __future__ import annotations

import re
from typing import Any

from attrs import frozen


@frozen
class Allowed:
    name: str
    provider: str
    operation: str
    part: str
    message: str  # a regular expression, searched in the problem's message
    reason: str

    def covers(self, problem: Any) -> bool:
        return (
            problem.provider == self.provider
            and re.fullmatch(self.operation, problem.operation) is not None
            and problem.part == self.part
            and re.search(self.message, problem.message) is not None
        )


_MAIL_SEND = r"POST /v3/mail/send"
_CREATE_MESSAGE = r"POST /2010-04-01/Accounts/\{AccountSid\}/Messages\.json"
_MAILGUN_SEND = r"POST /v3/\{domain_name\}/messages"
_PAYPAL_VERIFY = r"POST /v1/notifications/verify-webhook-signature"

ALLOWED: list[Allowed] = [
    Allowed(
        "sendgrid-custom-args-object",
        "sendgrid",
        _MAIL_SEND,
        "request",
        r"^custom_args: .* is not of type 'string'$",
        "tsg_mail_v3.json types the top-level `custom_args` as a string, yet its own description "
        "says it 'is overridden by `custom_args` set at the personalizations level', which the "
        "same document types as an object (maxProperties 10000); SendGrid's SDKs "
        "(sendgrid-python's CustomArg, Mail.get()) send an object of strings, and so do we.",
    ),
    Allowed(
        "sendgrid-sandbox-200",
        "sendgrid",
        _MAIL_SEND,
        "response",
        r"^status 200 is not documented",
        "tsg_mail_v3.json's `mail_settings.sandbox_mode` 'allows you to send a test email to "
        "ensure that your request body is valid', but the operation documents only 202 for "
        "success; SendGrid answers a sandboxed send with 200 and no body.",
    ),
    Allowed(
        "sendgrid-undocumented-errors",
        "sendgrid",
        _MAIL_SEND,
        "response",
        r"^status (429|502|503) is not documented",
        "tsg_mail_v3.json lists 400-413 and 500 but not 429, though SendGrid's v3 API answers "
        "a rate-limited call with 429 and its X-RateLimit-* headers (SendGrid's rate-limits "
        "reference); 502/503 come from SendGrid's edge, not the operation.",
    ),
    Allowed(
        "twilio-no-error-responses",
        "twilio",
        _CREATE_MESSAGE,
        "response",
        r"^status (400|401|404|429|500|502|503) is not documented",
        "twilio_api_v2010.json declares no 4XX or 5XX response for any of its 121 paths (only "
        "200, 201, 202, 204, 307 and 408), while the same document's Message resource carries "
        "`error_code`/`error_message` for Twilio's numbered errors (21211 and the like) that "
        "CreateMessage answers with 400; its error body {code, message, more_info, status} is "
        "not in the document.",
    ),
    Allowed(
        "mailgun-undocumented-errors",
        "mailgun",
        _MAILGUN_SEND,
        "response",
        r"^status (404|413|502|503) is not documented",
        "Mailgun's document lists 200, 400, 401, 429 and 500 for sending, yet its own "
        "`domain_name` path parameter may name a domain the account does not have, which "
        "Mailgun answers with 404 'Domain not found', and an oversized message is answered "
        "413; 502/503 come from Mailgun's edge.",
    ),
    Allowed(
        "mailgun-401-plain-text",
        "mailgun",
        _MAILGUN_SEND,
        "response",
        r"^response media type 'text/plain' is not one of \['application/json'\]",
        "Mailgun's document gives the 401 as application/json with schema `string` and the "
        "example value `Forbidden`: a bare word, which is what Mailgun sends, as text/plain "
        "(a JSON string would be quoted).",
    ),
    Allowed(
        "paypal-base64-transmission-sig",
        "paypal",
        _PAYPAL_VERIFY,
        "request",
        r"^transmission_sig: '[A-Za-z0-9+/=]+' does not match",
        "notifications_webhooks_v1.json says `transmission_sig` is 'the PAYPAL-TRANSMISSION-SIG "
        "header from the notification message', a base64 signature, yet gives it the pattern "
        "^(?!\\d+$)\\w+\\S+, which refuses the base64 signatures that start with + or /.",
    ),
    Allowed(
        "paypal-rate-limited",
        "paypal",
        r"(POST|GET) /v2/.*",
        "response",
        r"'name': 'RATE_LIMIT_REACHED'.* is not valid under any of the given schemas$",
        "The Orders and Payments documents' `default` response (error_default, oneOf "
        "error_400 ... error_503) stands for every status not listed, yet none of its schemas "
        "is a 429; PayPal answers rate limiting with 429 RATE_LIMIT_REACHED (its Rate limiting "
        "guide), which the simulator's catalogue adds (paypal_errors.RATE_LIMITED).",
    ),
    Allowed(
        "xero-response-codes",
        "xero",
        r".*",
        "response",
        r"^status (401|403|404|429|500|502|503) is not documented",
        "xero_accounting.yaml declares only 200 and 400 for these operations, yet its own "
        "`Error` schema links, as externalDocs, Xero's 'HTTP response codes' page, which lists "
        "401 (token), 403 (scope or tenant), 404, 429 (rate limits, with Retry-After), 500 and "
        "503 for the same API; 502 comes from Xero's edge.",
    ),
    Allowed(
        "gatewayapi-connection-limit",
        "gatewayapi",
        r"POST /rest/mtsms",
        "response",
        r"^status (429|502|503) is not documented",
        "Our GatewayAPI document lists the statuses GatewayAPI's REST documentation gives for "
        "POST /rest/mtsms (200, 400, 401, 403, 422, 500); the same documentation's 'Connection "
        "limit' section says requests over 40 open connections per IP are rejected, without "
        "naming the status; 502/503 come from its edge.",
    ),
    Allowed(
        "stripe-allowed-payment-method-types",
        "stripe",
        r"POST /v1/(payment_intents|checkout/sessions)",
        "request",
        r"^\(body\): Additional properties are not allowed \('allowed_payment_method_types' "
        r"was unexpected\)$",
        "spec3.json is API version 2023-08-16; the adapter pins 2026-10-28.endive, on which "
        "`allowed_payment_method_types` was added (changelog 2026-07-29.dahlia, 'Adds the allowed "
        "payment method types parameter to Payment Intents') and `payment_method_types` is no "
        "longer writable on PaymentIntents or Checkout Sessions (changelog 2026-09-30.endive, "
        "'Removes the payment method types parameter'): MobilePay is offered with the newer one.",
    ),
    Allowed(
        "mobilepay-customer-one-of",
        "mobilepay",
        r"POST /epayment/v1/(payments|test/payments/\{reference\}/approve)",
        "request",
        r"^customer: \{'phoneNumber': '[0-9]{10,15}'\} is valid under each of ",
        "epayment.v1.yml (1.4.1) makes `Customer` a oneOf of CustomerPhoneNumber, PersonalQrCode "
        "and CustomerToken, none of which requires its property, so every object matches more "
        "than one; and it types `phoneNumber` integer while giving it a string's minLength, "
        "maxLength and pattern `^\\d{10,15}$`. The API guide's create example sends "
        '`"customer": {"phoneNumber": "4712345678"}`, a string, as we do.',
    ),
    Allowed(
        "mobilepay-adjustment-media-type",
        "mobilepay",
        r"POST /epayment/v1/payments/\{reference\}/(capture|cancel|refund)",
        "response",
        r"^response media type 'application/json' is not one of \['application/problem\+json'\]$",
        "epayment.v1.yml (1.4.1) declares the successful adjustment answer (`AdjustResponse`, a "
        "ModificationResponse) as application/problem+json, the media type RFC 7807 reserves for "
        "problem details, while every other success of the same document is application/json.",
    ),
    Allowed(
        "mobilepay-error-statuses",
        "mobilepay",
        r"(GET|POST) /epayment/v1/payments.*",
        "response",
        r"^status (401|404|429|500|502|503) is not documented",
        "epayment.v1.yml documents 400/403/404/409 for some operations and none for getPayment, "
        "yet its own `Problem` schema links the errors page (knowledge-base/errors), which "
        "lists 401 (token or subscription key), 404, 429 and 5xx for every ePayment call.",
    ),
]

# Operations no document of ours describes: their exchanges are counted as outside the
# documents, not checked and not failing (tests/specs/README.md says why each is missing).
OUTSIDE: list[Allowed] = [
    Allowed(
        "mobilepay-access-token",
        "mobilepay",
        r"POST /accesstoken/get",
        "request",
        r"^no such operation$",
        "The Access Token API has an OpenAPI document of its own, not taken: a token request "
        "carries its keys as headers and no body, which a body schema cannot check.",
    ),
    Allowed(
        "mobilepay-webhooks-api",
        "mobilepay",
        r"(GET|POST) /webhooks/v1/webhooks",
        "request",
        r"^no such operation$",
        "The Webhooks API (registering the webhook URL) has its own document, not taken.",
    ),
    Allowed(
        "paypal-oauth2-token",
        "paypal",
        r"POST /v1/oauth2/token",
        "request",
        r"^no such operation$",
        "PayPal publishes no OpenAPI document for its OAuth2 token endpoint.",
    ),
    Allowed(
        "paypal-payer-page",
        "paypal",
        r"GET /checkoutnow",
        "request",
        r"^no such operation$",
        "The payer's approval page is a web page, not an API operation.",
    ),
    Allowed(
        "xero-token",
        "xero",
        r"POST /connect/token",
        "request",
        r"^no such operation$",
        "xero-identity.yaml does not describe the OAuth2 token endpoint.",
    ),
    Allowed(
        "quickbooks-token",
        "quickbooks",
        r"POST /oauth2/v1/tokens/bearer",
        "request",
        r"^no such operation$",
        "Our QuickBooks document describes the batch operation only; the token endpoint is "
        "Intuit's OAuth2 server.",
    ),
]
