"""Operator tools: the ``mykey ledger admin …`` / ``report …`` commands, CSV imports, admin API."""
