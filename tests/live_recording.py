"""Recording the exchanges of a live run (`make sandbox`) the way the simulators record theirs.

Against the real test modes the traffic goes from the SDKs and httpx straight to the providers,
not through a simulator, so `record_live()` wraps the two HTTP clients the adapters use:
httpx.Client.send (PayPal, Xero, Mailgun, GatewayAPI, QuickBooks) and requests.Session.send
(stripe-python's and twilio-python's default clients). Each exchange with a provider's host is
recorded under that provider's name (`justdriving.testing.exchanges`) and is then validated
against the same documents as the simulators' (tests/spec_session.py). SendGrid's SDK speaks
urllib through python_http_client and is not recorded yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from justdriving.testing.exchanges import Exchange, record

# The hosts of the providers' APIs and test modes, and the provider each belongs to.
HOSTS = {
    "api.stripe.com": "stripe",
    "api.twilio.com": "twilio",
    "api.sendgrid.com": "sendgrid",
    "api.eu.sendgrid.com": "sendgrid",
    "api.mailgun.net": "mailgun",
    "api.eu.mailgun.net": "mailgun",
    "api-m.sandbox.paypal.com": "paypal",
    "api-m.paypal.com": "paypal",
    "api.xero.com": "xero",
    "identity.xero.com": "xero",
    "gatewayapi.com": "gatewayapi",
    "gatewayapi.eu": "gatewayapi",
    "sandbox-quickbooks.api.intuit.com": "quickbooks",
    "quickbooks.api.intuit.com": "quickbooks",
    "oauth.platform.intuit.com": "quickbooks",
}


def provider_of(url: str) -> str | None:
    return HOSTS.get(urlsplit(url).hostname or "")


def _record(
    provider: str,
    method: str,
    url: str,
    headers: Any,
    body: bytes,
    status: int,
    reply_headers: Any,
    reply: bytes,
) -> None:
    parts = urlsplit(url)
    record(
        Exchange(
            provider=provider,
            method=method.upper(),
            path=parts.path,
            query=parts.query,
            request_headers={str(k).lower(): str(v) for k, v in dict(headers).items()},
            request_body=body,
            status=status,
            response_headers={str(k).lower(): str(v) for k, v in dict(reply_headers).items()},
            response_body=reply,
        )
    )


def _wrap_httpx(original: Callable[..., Any]) -> Callable[..., Any]:
    def send(self: Any, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = original(self, request, *args, **kwargs)
        provider = provider_of(str(request.url))
        if provider is not None:
            response.read()
            _record(
                provider,
                request.method,
                str(request.url),
                request.headers,
                request.content,
                response.status_code,
                response.headers,
                response.content,
            )
        return response

    return send


def _wrap_requests(original: Callable[..., Any]) -> Callable[..., Any]:
    def send(self: Any, request: Any, **kwargs: Any) -> Any:
        response = original(self, request, **kwargs)
        provider = provider_of(request.url)
        if provider is not None:
            body = request.body or b""
            _record(
                provider,
                request.method,
                request.url,
                request.headers,
                body.encode() if isinstance(body, str) else bytes(body),
                response.status_code,
                response.headers,
                response.content,
            )
        return response

    return send


@contextmanager
def record_live() -> Iterator[None]:
    """Inside the block, every exchange with a provider's host is recorded."""
    import httpx

    patched: list[tuple[Any, str, Any]] = [(httpx.Client, "send", httpx.Client.send)]
    httpx.Client.send = _wrap_httpx(httpx.Client.send)  # type: ignore[method-assign]
    try:
        import requests
    except ImportError:  # only the SDKs bring it
        requests = None  # type: ignore[assignment]
    if requests is not None:
        patched.append((requests.Session, "send", requests.Session.send))
        requests.Session.send = _wrap_requests(requests.Session.send)  # type: ignore[method-assign]
    try:
        yield
    finally:
        for owner, name, original in patched:
            setattr(owner, name, original)
