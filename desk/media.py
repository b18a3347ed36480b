"""Ticket photos in our own storage (var/media): residents' fetched from WeChat's media
API, workers' uploaded from the mobile page. The database row says where the file is."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from core.db import transaction
from core.models import Ticket
from core.models.desk import TicketPhoto
from desk.wechat import TokenSource, WechatDeskError, fetch_media

log = logging.getLogger(__name__)

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
              "image/webp": ".webp"}
MAX_FETCH_ATTEMPTS = 3


class PhotoError(ValueError):
    """A photo that cannot be stored (type, size); the message is shown to staff."""


def media_root(config: Config) -> Path:
    return config.var_path / config.desk.media_dir


def store(config: Config, ticket_id: int, data: bytes, content_type: str) -> str:
    """Write the bytes under var/media/tickets/<id>/; returns the path relative to media."""
    ext = EXTENSIONS.get(content_type)
    if ext is None:
        raise PhotoError("只能上传 JPG、PNG、GIF 或 WEBP 图片")
    if not data or len(data) > config.desk.max_photo_bytes:
        raise PhotoError("图片为空或过大")
    relative = Path("tickets") / str(ticket_id) / f"{secrets.token_hex(8)}{ext}"
    target = media_root(config) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return relative.as_posix()


def file_path(config: Config, relative: str) -> Path | None:
    """The stored file, or None when the path would leave the media folder."""
    root = media_root(config).resolve()
    target = (root / relative).resolve()
    return target if target.is_relative_to(root) and target.is_file() else None


def add_worker_photo(sessions: sessionmaker[Session], config: Config, number: str,
                     data: bytes, content_type: str, actor: str) -> int:
    with sessions() as session:
        ticket = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if ticket is None:
            raise PhotoError(f"没有找到工单 {number}")
        ticket_id, community_id = ticket.id, ticket.community_id
    path = store(config, ticket_id, data, content_type)
    with transaction(sessions) as session:
        row = TicketPhoto(ticket_id=ticket_id, community_id=community_id, source="worker",
                          media_id=f"upload:{Path(path).stem}", path=path,
                          content_type=content_type, uploaded_by=actor)
        session.add(row)
        session.flush()
        return row.id


def sync_resident_photos(sessions: sessionmaker[Session], config: Config,
                         tokens: TokenSource, ticket_id: int | None = None) -> int:
    """Fetch every resident photo named on tickets and not yet stored; returns files stored."""
    _register(sessions, ticket_id)
    query = select(TicketPhoto.id).where(TicketPhoto.source == "resident",
                                         TicketPhoto.path.is_(None))
    if ticket_id is not None:
        query = query.where(TicketPhoto.ticket_id == ticket_id)
    with sessions() as session:
        pending = list(session.scalars(query.limit(50)))
    return sum(_fetch_one(sessions, config, tokens, photo_id) for photo_id in pending)


def _register(sessions: sessionmaker[Session], ticket_id: int | None) -> None:
    """One TicketPhoto row per photo the intake form recorded on the ticket."""
    query = select(Ticket)  # JSON cannot be compared portably: recent tickets, filtered here
    if ticket_id is not None:
        query = select(Ticket).where(Ticket.id == ticket_id)
    with transaction(sessions) as session:
        for ticket in session.scalars(query.order_by(Ticket.id.desc()).limit(200)):
            if not ticket.photos:
                continue
            known = set(session.scalars(select(TicketPhoto.media_id).where(
                TicketPhoto.ticket_id == ticket.id)))
            for photo in ticket.photos or []:
                media_id = _media_id(photo)
                if media_id and media_id not in known:
                    known.add(media_id)
                    session.add(TicketPhoto(
                        ticket_id=ticket.id, community_id=ticket.community_id,
                        source="resident", media_id=media_id,
                        url=str((photo or {}).get("url") or "")))


def _media_id(photo: Any) -> str:
    return str(photo.get("media_id") or "")[:128] if isinstance(photo, dict) else ""


def _fetch_one(sessions: sessionmaker[Session], config: Config, tokens: TokenSource,
               photo_id: int) -> int:
    with sessions() as session:
        row = session.get(TicketPhoto, photo_id)
        if row is None or (row.error or "").count(";") >= MAX_FETCH_ATTEMPTS:
            return 0
        media_id, ticket_id = row.media_id, row.ticket_id
    try:
        data, kind = fetch_media(config.wechat, tokens, media_id, config.desk.max_photo_bytes)
        path = store(config, ticket_id, data, kind)
    except (WechatDeskError, PhotoError) as exc:
        log.warning("ticket photo %s not fetched: %s", photo_id, exc)
        with transaction(sessions) as session:
            failed = session.get(TicketPhoto, photo_id)
            if failed is not None:
                failed.error = f"{failed.error or ''}{exc};"
        return 0
    with transaction(sessions) as session:
        done = session.get(TicketPhoto, photo_id)
        if done is not None:
            done.path, done.content_type, done.error = path, kind, None
    return 1


def photos(sessions: sessionmaker[Session], ticket_id: int) -> list[dict[str, Any]]:
    with sessions() as session:
        rows = session.scalars(select(TicketPhoto).where(TicketPhoto.ticket_id == ticket_id)
                               .order_by(TicketPhoto.id))
        return [{"id": p.id, "source": p.source, "stored": p.path is not None,
                 "by": p.uploaded_by, "created_at": p.created_at.isoformat(),
                 "error": p.error} for p in rows]
