"""Every table of the ledger, as one SQLAlchemy Core ``metadata``.

Change tables only additively (new tables, new nullable columns) and keep names stable: the
operator tools and reports read them by name. Points are integers; dates are JST calendar dates;
timestamps are UTC. There is deliberately no table for purchased items or library lending.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)

#: A BIGINT primary key that SQLite still treats as its auto-increment ROWID.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


municipalities = Table(
    "municipalities",
    metadata,
    Column("code", String(6), primary_key=True),
    Column("name", String(100), nullable=False),
    _ts("created_at"),
)

point_programs = Table(
    "point_programs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("municipality_code", ForeignKey("municipalities.code"), nullable=False),
    Column("name", String(200), nullable=False),
    # municipal: accepted at every business of the municipality; special_event: only those named
    Column("kind", String(20), nullable=False),
    Column("lot_validity_days", Integer, nullable=False),
    Column("voucher_validity_days", Integer, nullable=False),
    Column("voucher_max_points", Integer, nullable=False),
    Column("offline_max_per_transaction", Integer, nullable=False),
    Column("offline_max_per_card_per_day", Integer, nullable=False),
    Column("offline_max_per_terminal_since_sync", Integer, nullable=False),
    Column("offline_max_hours_without_sync", Integer, nullable=False),
    Column("offline_max_revocation_age_hours", Integer, nullable=False),
    _ts("created_at"),
    CheckConstraint("kind IN ('municipal', 'special_event')", name="kind"),
)

businesses = Table(
    "businesses",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("municipality_code", ForeignKey("municipalities.code"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("street_id", ForeignKey("businesses.id"), nullable=True),
    _ts("created_at"),
    CheckConstraint("kind IN ('shop', 'street', 'library', 'facility', 'department')", name="kind"),
)

program_businesses = Table(
    "program_businesses",
    metadata,
    Column("program_id", ForeignKey("point_programs.id"), primary_key=True),
    Column("business_id", ForeignKey("businesses.id"), primary_key=True),
)

grant_programs = Table(
    "grant_programs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("program_id", ForeignKey("point_programs.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("department", String(200), nullable=False),
    Column("default_points", Integer, nullable=False),
    Column("category", String(10), nullable=False),
    _ts("created_at"),
    CheckConstraint("category IN ('ordinary', 'premium')", name="category"),
)

enrollment_codes = Table(
    "enrollment_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("business_id", ForeignKey("businesses.id"), nullable=False),
    Column("roles", String(100), nullable=False),
    _ts("created_at"),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
    Column("terminal_id", String(40), nullable=True),
)

terminals = Table(
    "terminals",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("business_id", ForeignKey("businesses.id"), nullable=False),
    Column("public_key", LargeBinary(32), nullable=False, unique=True),
    Column("voucher_public_key", LargeBinary(32), nullable=True),
    Column("roles", String(100), nullable=False),
    Column("name", String(100), nullable=False),
    Column("status", String(10), nullable=False),
    _ts("enrolled_at"),
    _ts("revoked_at", nullable=True),
    _ts("last_seen_at", nullable=True),
    _ts("last_pull_at", nullable=True),
    Column("pull_cursor", BigInteger, nullable=True),
    #: 6 digits that start every voucher number this terminal issues (unique system-wide)
    Column("voucher_prefix", Integer, nullable=True),
    CheckConstraint("status IN ('active', 'revoked')", name="status"),
    Index("ux_terminals_voucher_prefix", "voucher_prefix", unique=True),
)

request_nonces = Table(
    "request_nonces",
    metadata,
    Column("terminal_id", ForeignKey("terminals.id"), primary_key=True),
    Column("nonce", String(100), primary_key=True),
    _ts("expires_at"),
    Index("ix_request_nonces_expires_at", "expires_at"),
)

mykey_ids = Table(
    "mykey_ids",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("id_folded", String(16), nullable=False, unique=True),
    Column("status", String(10), nullable=False),
    _ts("created_at"),
    CheckConstraint("status IN ('active', 'invalid', 'suspended')", name="status"),
)

certificate_bindings = Table(
    "certificate_bindings",
    metadata,
    Column("fingerprint_sha256", String(64), primary_key=True),
    Column("issuer", String(500), nullable=False),
    Column("serial", String(60), nullable=False),
    Column("mykey_id", ForeignKey("mykey_ids.id"), nullable=False, index=True),
    Column("active", Boolean, nullable=False),
    Column("renewed_from", String(64), nullable=True),
    _ts("bound_at"),
    UniqueConstraint("issuer", "serial", name="uq_certificate_bindings_issuer_serial"),
)

renewal_links = Table(
    "renewal_links",
    metadata,
    Column("new_issuer", String(500), primary_key=True),
    Column("new_serial", String(60), primary_key=True),
    Column("old_issuer", String(500), nullable=False),
    Column("old_serial", String(60), nullable=False),
    Column("new_fingerprint_sha256", String(64), nullable=True),
    _ts("imported_at"),
)

service_ids = Table(
    "service_ids",
    metadata,
    Column("mykey_id", ForeignKey("mykey_ids.id"), primary_key=True),
    Column("business_id", ForeignKey("businesses.id"), primary_key=True),
    Column("customer_id", String(32), nullable=False),
    _ts("linked_at"),
)

business_cards = Table(
    "business_cards",
    metadata,
    Column("business_id", ForeignKey("businesses.id"), primary_key=True),
    Column("mykey_id", ForeignKey("mykey_ids.id"), primary_key=True),
    _ts("first_seen_at"),
)

accounts = Table(
    "accounts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # issuance | resident | escrow | settlement | expiry | overdraft
    Column("kind", String(12), nullable=False),
    Column("program_id", ForeignKey("point_programs.id"), nullable=False),
    # '' for program-wide accounts; the MyKey ID (resident, overdraft) or business ID (settlement)
    Column("owner", String(16), nullable=False),
    Column("balance", BigInteger, nullable=False),
    UniqueConstraint("kind", "program_id", "owner", name="uq_accounts_kind_program_owner"),
    CheckConstraint(
        "kind IN ('issuance', 'resident', 'escrow', 'settlement', 'expiry', 'overdraft')",
        name="kind",
    ),
)

transactions = Table(
    "transactions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("terminal_id", ForeignKey("terminals.id"), nullable=True),
    Column("business_id", ForeignKey("businesses.id"), nullable=True),
    Column("kind", String(20), nullable=False),
    Column("payload_sha256", String(64), nullable=False),
    Column("canonical", Text, nullable=False),
    Column("offline", Boolean, nullable=False),
    _ts("terminal_time"),
    _ts("received_at"),
    Column("mykey_id", String(16), nullable=True),
    Column("certificate_fingerprint", String(64), nullable=True),
    Column("card_signature", LargeBinary, nullable=True),
    Column("status", String(20), nullable=False),
    Column("reason", String(60), nullable=True),
    Column("result_json", Text, nullable=False),
    Index("ix_transactions_terminal_received", "terminal_id", "received_at"),
)

transfers = Table(
    "transfers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    # grant | use | voucher_reserve | voucher_post | voucher_void | expiry
    Column("kind", String(20), nullable=False),
    Column("program_id", ForeignKey("point_programs.id"), nullable=False),
    Column("transaction_id", ForeignKey("transactions.id"), nullable=True, index=True),
    Column("mykey_id", String(16), nullable=True, index=True),
    Column("business_id", String(16), nullable=True),
    Column("grant_program_id", ForeignKey("grant_programs.id"), nullable=True),
    Column("voucher_number", String(13), nullable=True),
    Column("points", BigInteger, nullable=False),
    Column("overdraft", BigInteger, nullable=False),
    _ts("created_at"),
    _ts("terminal_time", nullable=True),
    Column("reference", String(100), nullable=True),
)

legs = Table(
    "legs",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transfer_id", ForeignKey("transfers.id"), nullable=False, index=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
)

lots = Table(
    "lots",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("account_id", ForeignKey("accounts.id"), nullable=False),
    Column("transfer_id", ForeignKey("transfers.id"), nullable=False),
    Column("expires_on", Date, nullable=False),
    Column("original", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Index("ix_lots_account_expires", "account_id", "expires_on"),
)

lot_moves = Table(
    "lot_moves",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("transfer_id", ForeignKey("transfers.id"), nullable=False, index=True),
    Column("lot_id", ForeignKey("lots.id"), nullable=False, index=True),
    Column("amount", BigInteger, nullable=False),
)

vouchers = Table(
    "vouchers",
    metadata,
    Column("number", String(13), primary_key=True),
    Column("program_id", ForeignKey("point_programs.id"), nullable=False),
    Column("mykey_id", ForeignKey("mykey_ids.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("issuer_business_id", ForeignKey("businesses.id"), nullable=False),
    Column("street_id", ForeignKey("businesses.id"), nullable=False),
    Column("valid_from", Date, nullable=False),
    Column("valid_until", Date, nullable=False),
    Column("status", String(10), nullable=False),
    Column("issue_transaction_id", ForeignKey("transactions.id"), nullable=True),
    Column("reserve_transfer_id", ForeignKey("transfers.id"), nullable=False),
    Column("redeem_transaction_id", ForeignKey("transactions.id"), nullable=True),
    Column("redeemer_business_id", ForeignKey("businesses.id"), nullable=True),
    Column("post_transfer_id", ForeignKey("transfers.id"), nullable=True),
    Column("void_transfer_id", ForeignKey("transfers.id"), nullable=True),
    _ts("issued_at"),
    _ts("redeemed_at", nullable=True),
    _ts("redeemed_terminal_time", nullable=True),
    Column("event_seq", BigInteger, nullable=True),
    CheckConstraint("status IN ('reserved', 'redeemed', 'voided')", name="status"),
)

voucher_conflicts = Table(
    "voucher_conflicts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("voucher_number", ForeignKey("vouchers.number"), nullable=False),
    Column("transaction_id", ForeignKey("transactions.id"), nullable=False, unique=True),
    Column("business_id", ForeignKey("businesses.id"), nullable=False),
    _ts("terminal_time"),
    _ts("created_at"),
    _ts("resolved_at", nullable=True),
)

mykey_challenges = Table(
    "mykey_challenges",
    metadata,
    Column("challenge", String(64), primary_key=True),
    Column("terminal_id", ForeignKey("terminals.id"), nullable=False),
    _ts("expires_at"),
    _ts("used_at", nullable=True),
)

crl_imports = Table(
    "crl_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issuer", String(500), nullable=False),
    _ts("this_update"),
    _ts("next_update", nullable=True),
    Column("entries", Integer, nullable=False),
    _ts("imported_at"),
)

revoked_certificates = Table(
    "revoked_certificates",
    metadata,
    Column("issuer", String(500), primary_key=True),
    Column("serial", String(60), primary_key=True),
    _ts("revoked_at"),
    _ts("imported_at"),
)

#: Attendance taps: a card is granted once per (grant program, event). Added in revision 0002.
grant_events = Table(
    "grant_events",
    metadata,
    Column("grant_program_id", ForeignKey("grant_programs.id"), primary_key=True),
    Column("event", String(64), primary_key=True),
    Column("mykey_id", ForeignKey("mykey_ids.id"), primary_key=True),
    Column("transaction_id", ForeignKey("transactions.id"), nullable=True),
    _ts("granted_at"),
)

#: Append-only change feed that terminals pull: what changed, for which business/street/card.
sync_events = Table(
    "sync_events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(20), nullable=False),
    Column("mykey_id", String(16), nullable=True, index=True),
    Column("business_id", String(16), nullable=True, index=True),
    Column("street_id", String(16), nullable=True, index=True),
    Column("ref", String(64), nullable=True),
    _ts("created_at"),
)
