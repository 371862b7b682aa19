"""The ops page's words in Danish and English, and how times and amounts read in each.

English is the key: `Texts("da").t("Invoices")` is "Fakturaer", and `Texts("en")` gives the
key back. Times show in the school's timezone in one format per language (Danish
15.01.2027 10:30, English 2027-01-15 10:30), with the zone's abbreviation; amounts use the
language's separators. A test checks that every text the templates ask for has its Danish.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from justdriving.domain.money import Money

LANGUAGES: Final = ("da", "en")

DANISH: Final[dict[str, str]] = {
    # page and navigation
    "justdriving ops": "justdriving drift",
    "Money": "Penge",
    "Invoices": "Fakturaer",
    "Payments": "Betalinger",
    "Balances": "Saldi",
    "Disputes": "Indsigelser",
    "Outbox": "Udbakke",
    "Messages": "Beskeder",
    "Inbox": "Indbakke",
    "Accounting sync runs": "Bogføringskørsler",
    "Held for review": "Tilbageholdt til gennemsyn",
    "Overpayments held for review": "Overbetalinger til gennemsyn",
    "Failed payments": "Mislykkede betalinger",
    "Recent payments": "Seneste betalinger",
    "Search by student": "Søg efter elev",
    "Name or id": "Navn eller id",
    "Search": "Søg",
    "Show everyone": "Vis alle",
    "Showing": "Viser",
    "No student matches": "Ingen elev passer på",
    "Several students match; choose one": "Flere elever passer; vælg én",
    "Language": "Sprog",
    "Times in": "Tider i",
    "each school's own": "hver skoles egen tidszone",
    "Back to the ops page": "Tilbage til driftssiden",
    "Outbox row queued for another try": "Udbakke-rækken er sat i kø til et nyt forsøg",
    # columns
    "Invoice": "Faktura",
    "Student": "Elev",
    "School": "Skole",
    "Issued": "Udstedt",
    "Due": "Forfald",
    "Total": "I alt",
    "Paid": "Betalt",
    "Outstanding": "Udestående",
    "Payment": "Betaling",
    "Amount": "Beløb",
    "Status": "Status",
    "Paid by": "Betalt med",
    "Created": "Oprettet",
    "Reason": "Årsag",
    "Owes": "Skylder",
    "Overdue": "Forfaldent",
    "Oldest due": "Ældste forfald",
    "Opened": "Åbnet",
    "Updated": "Opdateret",
    "Dead row": "Død række",
    "Kind": "Type",
    "Attempts": "Forsøg",
    "Last error": "Seneste fejl",
    "Retry": "Prøv igen",
    "Message": "Besked",
    "Type": "Type",
    "Channel": "Kanal",
    "To": "Til",
    "Provider": "Udbyder",
    "Error": "Fejl",
    "Decisions": "Beslutninger",
    "Received": "Modtaget",
    "Event": "Hændelse",
    "Started": "Startet",
    "Finished": "Færdig",
    "Pushed": "Sendt",
    "Skipped": "Sprunget over",
    "Failures": "Fejl",
    "dry run": "prøvekørsel",
    "stopped early": "stoppet tidligt",
    "not connected (its records wait)": "ikke forbundet (posterne venter)",
    "none": "ingen",
    "Captured": "Hævet",
    "Overpaid": "Overbetalt",
    "Refunded": "Refunderet",
    "Lines": "Linjer",
    "Credit notes": "Kreditnotaer",
    "Refunds": "Refunderinger",
    "Quantity": "Antal",
    "Description": "Beskrivelse",
    "Unit price": "Stykpris",
    "VAT": "Moms",
    "owes": "skylder",
    "in credit": "til gode",
    "until": "indtil",
    "ref": "ref.",
    "Give it back with": "Betal tilbage med",
    # empty sections
    "No invoices.": "Ingen fakturaer.",
    "No payments.": "Ingen betalinger.",
    "Nobody owes anything.": "Ingen skylder noget.",
    "No disputes.": "Ingen indsigelser.",
    "No dead rows.": "Ingen døde rækker.",
    "No messages.": "Ingen beskeder.",
    "No webhooks received.": "Ingen webhooks modtaget.",
    "No sync runs.": "Ingen bogføringskørsler.",
    "Nothing held for review.": "Intet tilbageholdt.",
    "No overpayment.": "Ingen overbetalinger.",
    "No failed payments.": "Ingen mislykkede betalinger.",
    # statuses
    "draft": "kladde",
    "open": "åben",
    "overdue": "forfalden",
    "partially_paid": "delvist betalt",
    "paid": "betalt",
    "void": "annulleret",
    "pending": "afventer",
    "requires_action": "kræver handling",
    "failed": "mislykket",
    "processing": "behandles",
    "authorized": "reserveret",
    "succeeded": "gennemført",
    "canceled": "annulleret",
    "held_for_review": "til gennemsyn",
    "deferred": "udskudt",
    "in_flight": "sendes",
    "sent": "sendt",
    "dead": "død",
    "queued": "i kø",
    "delivered": "leveret",
    "suppressed": "undertrykt",
    "received": "modtaget",
    "processed": "behandlet",
    "ignored": "ignoreret",
    "needs_response": "kræver svar",
    "under_review": "under behandling",
    "won": "vundet",
    "lost": "tabt",
    # how a payment came
    "cash": "kontant",
    "bank_transfer": "bankoverførsel",
    "mobilepay": "MobilePay",
    "online": "online",
}


_DANISH_SEPARATORS: Final = str.maketrans(",.", ".,")


class Texts:
    """One language's words, times and amounts, for a template."""

    def __init__(self, language: str) -> None:
        self.language = language if language in LANGUAGES else LANGUAGES[0]
        self._words = DANISH if self.language == "da" else {}

    def t(self, text: str) -> str:
        return self._words.get(text, text)

    def when(self, moment: datetime | None, timezone: str = "UTC") -> str:
        """`moment` in `timezone`, to the minute, with the zone's abbreviation."""
        if moment is None:
            return "—"
        local = moment.astimezone(ZoneInfo(timezone))
        shape = "%d.%m.%Y %H:%M" if self.language == "da" else "%Y-%m-%d %H:%M"
        return f"{local.strftime(shape)} {local.tzname() or timezone}"

    def utc(self, moment: datetime | None) -> str:
        """The exact moment in UTC, for a tooltip and the <time> element."""
        return moment.isoformat() if moment else ""

    def money(self, amount: Money | None) -> str:
        """1,234.50 DKK in English; 1.234,50 DKK in Danish."""
        if amount is None:
            return ""
        text = f"{amount.to_decimal():,}"
        if self.language == "da":
            text = text.translate(_DANISH_SEPARATORS)
        return f"{text} {amount.currency}"
