"""The pay link and, in development, the landing page.

- `GET  /pay/<token>`: the invoice (lines, VAT, totals) in the school's language, with a Pay
  button while something is left to pay; the link printed on the invoice PDF and sent in its
  e-mail and reminders. The token is signed for that invoice and expires (PAY_LINK_DAYS): an
  expired link shows the invoice with no button, 410, and says where a fresh one is; a token
  this platform did not make is a 404.
- `POST /pay/<token>`: start (or resume) the invoice's online payment and go to the
  provider's checkout. Starting again gives the same checkout, never a second charge, so a
  link scanner or a second click does no harm.
- `GET  /` (outside production): links to the open invoices' pay pages (the dev checkout
  behind them), the ops page, health and the docs of a source checkout (`/docs/<name>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import urljoin

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import NotFound as HttpNotFound

from justdriving.application import Application
from justdriving.domain.errors import PayLinkExpired, PaymentNotAllowed
from justdriving.entrypoints.web.invoice_view import PAYABLE, invoice_view

if TYPE_CHECKING:
    from justdriving.container import Container

# docs/ and README.md of a source checkout (src/justdriving/entrypoints/web/pay.py -> root).
SOURCE_ROOT: Final = Path(__file__).resolve().parents[4]
LANDING_INVOICES: Final = 20


def pay_blueprint(container: Container) -> Blueprint:
    pages = _PayPages(container.application())
    blueprint = Blueprint("pay", __name__, template_folder="templates")
    blueprint.add_url_rule("/pay/<token>", "invoice", pages.invoice, methods=["GET"])
    blueprint.add_url_rule("/pay/<token>", "start", pages.start, methods=["POST"])
    return blueprint


def landing_blueprint(container: Container) -> Blueprint:
    """`/` and `/docs/<name>`: development only (the caller mounts it outside production)."""
    settings = container.settings()
    app: Application = container.application()
    blueprint = Blueprint("landing", __name__, template_folder="templates")

    def landing() -> ResponseReturnValue:
        return render_template(
            "justdriving/landing.html",
            invoices=_open_invoices(app),
            ops=bool(settings.ops_token),
            provider=str(settings.payment_provider),
            docs=sorted(_docs()),
        )

    def doc(name: str) -> ResponseReturnValue:
        path = _docs().get(name)
        if path is None:
            raise HttpNotFound()
        return path.read_text(encoding="utf-8"), 200, {"Content-Type": "text/plain; charset=utf-8"}

    blueprint.add_url_rule("/", "landing", landing, methods=["GET"])
    blueprint.add_url_rule("/docs/<name>", "doc", doc, methods=["GET"])
    return blueprint


class _PayPages:
    def __init__(self, app: Application) -> None:
        self._app = app

    def invoice(self, token: str) -> ResponseReturnValue:
        found = self._app.payer.by_link(token)
        view = invoice_view(found.invoice, found.school)
        page = render_template(
            "justdriving/pay.html", token=token, link_expired=found.link_expired, **view
        )
        return page, 410 if found.link_expired else 200

    def start(self, token: str) -> ResponseReturnValue:
        found = self._app.payer.by_link(token)
        invoice, school = found.invoice, found.school
        if found.link_expired:
            raise PayLinkExpired(f"the pay link of invoice {invoice.number} has expired")
        if invoice.status not in PAYABLE or not invoice.outstanding.is_positive:
            raise PaymentNotAllowed(f"invoice {invoice.number} has nothing left to pay")
        started = self._app.start_invoice_payment(school.id, invoice.id)
        target = started.session.redirect_url
        if not target:
            raise PaymentNotAllowed(
                f"{started.session.provider} checks out in the school's own app, not by a link"
            )
        return redirect(urljoin(request.host_url, target), code=303)


def _open_invoices(app: Application) -> list[dict[str, str]]:
    return [
        {
            "id": found.invoice.id,
            "number": found.invoice.number or "",
            "school": found.school_name,
            "student": found.student_name,
            "outstanding": str(found.invoice.outstanding),
            "link": app.payer.link_path(found.invoice.id),
        }
        for found in app.payer.open_invoices(LANDING_INVOICES)
    ]


def _docs() -> dict[str, Path]:
    """README.md and docs/*.md of a source checkout, by file name; none in an installed wheel."""
    candidates = [SOURCE_ROOT / "README.md", *sorted((SOURCE_ROOT / "docs").glob("*.md"))]
    return {path.name: path for path in candidates if path.is_file()}
