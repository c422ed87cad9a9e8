"""The wire contract between terminals and the ledger server, and the client side of it."""
