"""Translations: ``mykey_en.ts`` (committed source) -> ``mykey_en.qm`` (built by ``make``)."""
