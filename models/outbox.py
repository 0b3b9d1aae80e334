"""Work a transaction leaves for after its commit, and the leases that keep generated ids unique."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, id_column


class Outbox(Base):
    """Written in the transaction whose commit it follows (feed fan-out, storage deletes), so a crash
    after the commit loses nothing; drained by core/outbox.py."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "available_at", "id"),)

    id: Mapped[int] = id_column()
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Claimable from this time; a claim moves it ahead by the lease, so a crashed worker's rows return.
    available_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class IdNodeLease(Base):
    """Which process holds which of the 1,024 node ids of the id generator, until when."""

    __tablename__ = "id_node_leases"

    node_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    holder: Mapped[str] = mapped_column(String(64))
    # Unix milliseconds of the host's clock: liveness, not application time (tests move that one).
    expires_at_ms: Mapped[int] = mapped_column(BigInteger)
