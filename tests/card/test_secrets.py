"""A PIN never shows: not in repr, str, f-strings, exceptions, pickles, or log records."""

from __future__ import annotations

import logging
import pickle

import pytest

from cardio.secrets import Pin, PinFormatError, PinRedactingFilter, redact


def test_pin_text_forms_are_masked() -> None:
    pin = Pin("4821")
    percent = "%s" % (pin,)  # noqa: UP031
    for text in (repr(pin), str(pin), f"{pin}", f"{pin!r}", percent, str([pin])):
        assert "4821" not in text
    assert pin.apdu_data() == b"4821"


@pytest.mark.parametrize("bad", ["123", "12345", "12a4", "１２３４", "", " 1234"])
def test_malformed_pin_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(PinFormatError) as excinfo:
        Pin(bad)
    if bad.strip():
        assert bad not in str(excinfo.value)


def test_pin_cannot_be_pickled() -> None:
    with pytest.raises(TypeError):
        pickle.dumps(Pin("4821"))


def test_log_records_lose_live_pin_digits(caplog: pytest.LogCaptureFixture) -> None:
    pin = Pin("7305")
    logger = logging.getLogger("test.pin")
    logger.addFilter(PinRedactingFilter())
    with caplog.at_level(logging.DEBUG, logger="test.pin"):
        logger.debug("customer typed %s", pin.apdu_data().decode())
        try:
            raise RuntimeError("VERIFY 7305 failed")
        except RuntimeError:
            logger.exception("card said no")
    assert "7305" not in caplog.text
    assert "****" in caplog.text
    pin.wipe()
    assert redact("7305") == "7305"
