"""Card profiles are folders: private files, atomic counters, clear errors, no PIN in reprs."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from cardio.virtual.errors import MissingFolderError
from cardio.virtual.profile import CardProfile
from tests.card_virtual.conftest import PIN, SIGN_PASSWORD


def test_every_file_is_private(profile: CardProfile) -> None:
    assert stat.S_IMODE(profile.directory.stat().st_mode) == 0o700
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in profile.directory.iterdir()}
    assert "auth_key.pem" in modes and "tries.json" in modes
    assert set(modes.values()) == {0o600}


def test_load_gives_back_what_was_issued(profile: CardProfile) -> None:
    again = CardProfile.load(profile.directory)
    assert (again.pin, again.sign_password) == (PIN, SIGN_PASSWORD)
    assert (again.pin_tries_left, again.sign_password_tries_left) == (3, 5)
    assert again.auth_certificate == profile.auth_certificate
    assert again.auth_key.private_numbers() == profile.auth_key.private_numbers()


def test_save_counters_replaces_the_file_atomically(profile: CardProfile) -> None:
    profile.pin_tries_left = 1
    profile.sign_password_tries_left = 4
    profile.save_counters()
    again = CardProfile.load(profile.directory)
    assert (again.pin_tries_left, again.sign_password_tries_left) == (1, 4)
    leftovers = [p.name for p in profile.directory.iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_repr_shows_no_secret(profile: CardProfile) -> None:
    text = repr(profile) + str(profile)
    assert PIN not in text and SIGN_PASSWORD not in text
    assert "BEGIN" not in text


def test_missing_folder_gives_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(MissingFolderError) as caught:
        CardProfile.load(tmp_path / "nowhere")
    assert "nowhere" in caught.value.message_en and "nowhere" in caught.value.message_ja


@pytest.mark.parametrize(
    ("file", "content"),
    [
        ("tries.json", '{"pin_tries_left": 7, "sign_password_tries_left": 5}'),
        ("tries.json", "not json"),
        ("secrets.json", '{"pin": "12a4", "sign_password": "ABCDEF"}'),
        ("auth_key.pem", "garbage"),
    ],
)
def test_broken_profile_is_refused_without_showing_secrets(
    profile: CardProfile, file: str, content: str
) -> None:
    (profile.directory / file).write_text(content)
    with pytest.raises(MissingFolderError) as caught:
        CardProfile.load(profile.directory)
    text = caught.value.message_en + caught.value.message_ja + repr(caught.value)
    assert "12a4" not in text and PIN not in text
