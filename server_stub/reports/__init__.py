"""Read-only reports over the ledger: issuance, settlement, a resident's history."""
