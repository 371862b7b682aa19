"""`send_template`: the host's welcome, verification and password-reset emails (or any template
of its own) to a person or an address, through the delivery policy, the staging redirect, the
suppression list, the throttle and the message log like every other message."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from justdriving.adapters.memory import (
    FakeEmailSender,
    FakePaymentGateway,
    FakeSmsSender,
    FrozenClock,
    MemoryStore,
    MemoryUnitOfWorkFactory,
)
from justdriving.adapters.payments.registry import MemoryGatewayRegistry
from justdriving.adapters.templates import JinjaTemplateRenderer
from justdriving.application import Application
from justdriving.domain.delivery import Suppression, SuppressionReason
from justdriving.domain.delivery_policy import DeliveryPolicy
from justdriving.domain.errors import InvalidInput, NotFound
from justdriving.domain.messages import Channel, MessageStatus
from justdriving.domain.people import EmailAddress
from justdriving.domain.schools import Branding, MessageType

from .support import build_world, messages, snapshot, with_settings

# 14:00 in Copenhagen.
DAYTIME = datetime(2026, 3, 10, 13, 0, tzinfo=UTC)
RESET = {"reset_url": "https://app.example.dk/reset/Qm81z", "expires": "60 minutes"}
QA = EmailAddress("qa@school.example")


def an_app(
    store: MemoryStore,
    email: FakeEmailSender,
    sms: FakeSmsSender | None = None,
    policy: DeliveryPolicy | None = None,
    overrides: tuple[Path, ...] = (),
) -> Application:
    clock = FrozenClock(DAYTIME)
    return Application(
        uow=MemoryUnitOfWorkFactory(store),
        clock=clock,
        gateways=MemoryGatewayRegistry({"fake": FakePaymentGateway("fake", clock=clock)}),
        sms=sms or FakeSmsSender(),
        email=email,
        renderer=JinjaTemplateRenderer(overrides=overrides),
        delivery=policy or DeliveryPolicy(),
    )


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def email() -> FakeEmailSender:
    return FakeEmailSender()


def suppress(app: Application, address: str) -> None:
    with app.uow() as uow:
        uow.suppressions.add(
            Suppression(
                id="",
                channel=Channel.EMAIL,
                address=address,
                reason=SuppressionReason.HARD_BOUNCE,
                created_at=DAYTIME,
            )
        )
        uow.commit()


class TestAPasswordReset:
    def test_one_call_mails_it_to_the_student_in_their_language_and_the_log_shows_it(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        branding = Branding(colour="#c8102e", footer="Nørregade 1, Aalborg")
        world = build_world(app, settings=with_settings(branding=branding))

        [queued] = app.send_template(
            world.school.id, "password_reset", to=world.student.id, context=RESET
        )
        app.relay_outbox()

        [(_, sent, _)] = email.sent
        assert str(sent.to) == "anna@example.dk"
        assert sent.subject == "Nulstil din adgangskode"
        assert "Hej Anna Andersen," in sent.text
        assert RESET["reset_url"] in sent.text
        assert "Linket gælder i 60 minutes." in sent.text
        assert sent.html is not None
        assert f'href="{RESET["reset_url"]}"' in sent.html
        assert "background-color:#c8102e" in sent.html
        assert "Nørregade 1, Aalborg" in sent.html
        [logged] = messages(store, MessageType.PASSWORD_RESET)
        assert logged.id == queued.id == sent.reference
        assert (logged.status, logged.channel, logged.language) == (
            MessageStatus.SENT,
            Channel.EMAIL,
            "da",
        )

    def test_in_staging_it_goes_to_the_redirect_and_the_log_says_so(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email, policy=DeliveryPolicy(mail_redirect_to=QA))
        world = build_world(app)

        app.send_template(
            world.school.id,
            "password_reset",
            to="bo@example.dk",
            context={**RESET, "recipient_name": "Bo"},
        )
        app.relay_outbox()

        [(_, sent, _)] = email.sent
        assert sent.to == QA
        [logged] = messages(store, MessageType.PASSWORD_RESET)
        assert str(logged.recipient) == "bo@example.dk"
        assert logged.status is MessageStatus.SENT
        assert logged.decisions[0].startswith("redirected from b***@example.dk to q***@")

    def test_a_suppressed_address_is_not_mailed_and_the_log_says_why(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        world = build_world(app)
        suppress(app, "anna@example.dk")

        app.send_template(world.school.id, "password_reset", to=world.student.id, context=RESET)
        app.relay_outbox()

        assert email.sent == []
        [logged] = messages(store, MessageType.PASSWORD_RESET)
        assert logged.status is MessageStatus.SUPPRESSED
        assert "recipient is suppressed (hard_bounce)" in logged.decisions

    def test_the_schools_message_toggles_do_not_hold_back_what_a_person_asked_for(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        world = build_world(app, settings=with_settings(email_message_types=frozenset()))

        app.send_template(world.school.id, "password_reset", to=world.student.id, context=RESET)
        app.relay_outbox()

        assert len(email.sent) == 1

    def test_the_throttle_holds_the_eleventh_within_the_hour(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        world = build_world(app)
        for _ in range(11):
            app.send_template(world.school.id, "password_reset", to=world.student.id, context=RESET)

        app.relay_outbox()

        assert len(email.sent) == 10
        held = [m for m in messages(store, MessageType.PASSWORD_RESET) if m.state == "deferred"]
        assert len(held) == 1
        assert held[0].decisions[-1].startswith("throttled: 10 sent in the last hour")


class TestWhatCanBeSent:
    def test_a_welcome_goes_to_a_teacher_in_the_teachers_language(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        world = build_world(app)
        teacher = app.add_teacher(
            world.school.id, "Tina Thomsen", email="tina@koreskolen.dk", language="en"
        )

        app.send_template(
            world.school.id,
            "welcome",
            to=teacher.id,
            context={"login_url": "https://app.example.dk/login"},
        )
        app.relay_outbox()

        [(_, sent, _)] = email.sent
        assert sent.subject == "Welcome to Køreskolen Øst"
        assert "Hi Tina Thomsen," in sent.text
        assert "Sign in: https://app.example.dk/login" in sent.text

    def test_an_address_gets_its_own_channel_and_a_phone_number_an_sms(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        sms = FakeSmsSender()
        app = an_app(store, email, sms=sms)
        world = build_world(app)

        [queued] = app.send_template(
            world.school.id,
            "email_verification",
            to="20 99 88 77",
            context={"verify_url": "https://app.example.dk/v/k3J9x", "recipient_name": "Bo"},
            language="en",
        )
        app.relay_outbox()

        assert queued.channel is Channel.SMS
        [(to, message, _)] = sms.sent
        assert to.e164 == "+4520998877"
        assert message.body == (
            "Køreskolen Øst: Confirm your email address: https://app.example.dk/v/k3J9x"
        )

    def test_the_hosts_own_template_is_sent_as_a_notice_naming_it(
        self, store: MemoryStore, email: FakeEmailSender, tmp_path: Path
    ) -> None:
        (tmp_path / "da").mkdir()
        (tmp_path / "da" / "theory_test.subject.j2").write_text("Teoriprøve {{ day }}\n")
        (tmp_path / "da" / "theory_test.txt.j2").write_text("Din teoriprøve er {{ day }}.\n")
        (tmp_path / "da" / "theory_test.html.j2").write_text("<p>{{ day }}</p>\n")
        app = an_app(store, email, overrides=(tmp_path,))
        world = build_world(app)

        [queued] = app.send_template(
            world.school.id, "theory_test", to=world.student.id, context={"day": "12. maj"}
        )
        app.relay_outbox()

        assert (queued.type, queued.template) == (MessageType.NOTICE, "theory_test")
        [(_, sent, _)] = email.sent
        assert (sent.subject, sent.text) == ("Teoriprøve 12. maj", "Din teoriprøve er 12. maj.")

    def test_the_same_idempotency_key_queues_it_once(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        world = build_world(app)

        first = app.send_template(
            world.school.id, "welcome", to=world.student.id, idempotency_key="signup-42"
        )
        again = app.send_template(
            world.school.id, "welcome", to=world.student.id, idempotency_key="signup-42"
        )
        app.relay_outbox()

        assert [m.id for m in first] == [m.id for m in again]
        assert len(email.sent) == 1


class TestRefusals:
    @pytest.mark.parametrize(
        ("template", "context", "refusal"),
        [
            ("password_reset", {}, InvalidInput),  # no reset_url
            ("no_such_template", {}, NotFound),
            ("../../etc/passwd", {}, InvalidInput),
            ("_layout", {}, InvalidInput),
            ("welcome", {"school_name": "Another School"}, InvalidInput),
            ("welcome", {"when": object()}, InvalidInput),
            ("welcome", {"ratio": float("nan")}, InvalidInput),
        ],
    )
    def test_a_call_that_would_fail_later_is_refused_now_and_stores_nothing(
        self,
        store: MemoryStore,
        email: FakeEmailSender,
        template: str,
        context: dict[str, object],
        refusal: type[Exception],
    ) -> None:
        app = an_app(store, email)
        world = build_world(app)
        before = snapshot(store)

        with pytest.raises(refusal):
            app.send_template(world.school.id, template, to=world.student.id, context=context)

        assert snapshot(store) == before

    def test_another_schools_student_is_not_found(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        ours = build_world(app)
        theirs = build_world(app, name="Køreskolen Vest")

        with pytest.raises(NotFound):
            app.send_template(ours.school.id, "welcome", to=theirs.student.id)

    def test_a_person_without_the_channel_asked_for_is_refused(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        world = build_world(app)
        silent = app.add_student(world.school.id, "Ole Olsen", phone="20 55 44 33")

        with pytest.raises(InvalidInput, match="has no email"):
            app.send_template(world.school.id, "welcome", to=silent.id)

    def test_a_bare_address_needs_a_name_to_greet(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        world = build_world(app)

        with pytest.raises(InvalidInput, match="'recipient_name' is undefined"):
            app.send_template(world.school.id, "welcome", to="bo@example.dk")

    def test_an_address_that_is_neither_email_nor_phone_is_refused(
        self, store: MemoryStore, email: FakeEmailSender
    ) -> None:
        app = an_app(store, email)
        world = build_world(app)

        with pytest.raises(InvalidInput):
            app.send_template(world.school.id, "welcome", to="not an address")


def test_a_key_used_again_with_another_channel_queues_only_the_new_one(
    store: MemoryStore, email: FakeEmailSender
) -> None:
    app = an_app(store, email)
    world = build_world(app)
    sms_and_email = frozenset({Channel.SMS, Channel.EMAIL})

    [first] = app.send_template(
        world.school.id, "welcome", to=world.student.id, idempotency_key="k1"
    )
    both = app.send_template(
        world.school.id,
        "welcome",
        to=world.student.id,
        channels=sms_and_email,
        idempotency_key="k1",
    )
    plain = app.send_template(
        world.school.id, "welcome", to=world.student.id, channels=sms_and_email
    )

    assert first.id in [m.id for m in both]
    assert sorted(m.channel for m in both) == sorted(m.channel for m in plain)
    assert len({m.id for m in both + plain}) == 4
    assert len(messages(store, MessageType.WELCOME)) == 4
