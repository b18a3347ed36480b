"""`/wechat`: the edge toward WeChat's servers. Verifies, decrypts, parses, answers.

Errors the sender caused map to 4xx here, in one place, before any database work.
A push that could not be stored is answered 503, so WeChat retries it; one that
was stored is answered (reply or `success`) even if its processing failed.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, Response, current_app, request
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature
from werkzeug.exceptions import RequestEntityTooLarge

from bot.gateway import SUCCESS, Push, Replayed, StoreUnavailable, Unstorable, body_digest
from bot.inbound import InboundError, parse_inbound, reject_declarations
from core.metrics import PUSHES

log = logging.getLogger(__name__)
bp = Blueprint("wechat", __name__)


class WebhookError(Exception):
    status = 400


class ForbiddenError(WebhookError):
    status = 403


class TooLargeError(WebhookError):
    status = 413


@bp.errorhandler(WebhookError)
def _webhook_error(exc: WebhookError) -> Response:
    log.info("rejected push: %s", exc)
    PUSHES.labels("rejected").inc()
    return Response(str(exc) or "bad request", status=exc.status, mimetype="text/plain")


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(_exc: RequestEntityTooLarge) -> Response:
    return Response("body too large", status=413, mimetype="text/plain")


def _services():  # type: ignore[no-untyped-def]
    return current_app.extensions["wuye"]


def _verify_signature() -> str:
    """Check signature and timestamp; return the replay key (signature, timestamp, nonce)."""
    config = _services().config.wechat
    timestamp = request.args.get("timestamp", "")
    nonce = request.args.get("nonce", "")
    signature = request.args.get("signature", "")
    try:
        check_signature(config.token, signature, timestamp, nonce)
    except InvalidSignatureException:
        raise ForbiddenError("invalid signature") from None
    try:
        skew = abs(time.time() - int(timestamp))
    except ValueError:
        raise ForbiddenError("invalid timestamp") from None
    if skew > config.timestamp_tolerance_seconds:
        raise ForbiddenError("stale timestamp")
    return f"{signature}:{timestamp}:{nonce}"[:200]


@bp.get("/wechat")
def verify_url() -> Response:
    """WeChat's URL verification: echo `echostr` when the signature holds."""
    _verify_signature()
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/wechat")
def receive() -> Response:
    started = time.monotonic()
    replay_key = _verify_signature()
    services = _services()
    crypto = _crypto()
    if crypto is None and services.config.wechat.require_encryption:
        raise ForbiddenError("plain push refused: safe mode (encrypt_type=aes) is required")
    limit = services.config.server.max_body_bytes
    if (request.content_length or 0) > limit:
        raise TooLargeError("body too large")
    body = request.get_data(cache=False)
    if len(body) > limit:
        raise TooLargeError("body too large")
    xml = _decrypt(crypto, body) if crypto else body
    try:
        inbound = parse_inbound(xml)
    except InboundError as exc:
        raise WebhookError(str(exc)) from None
    push = Push(inbound, xml.decode("utf-8"),
                deadline=started + services.config.wechat.reply_budget_seconds,
                replay_key=replay_key, body_digest=body_digest(body))
    try:
        reply = services.gateway.receive(push)
    except Replayed:
        raise ForbiddenError("replayed signature") from None
    except Unstorable as exc:
        raise WebhookError(f"push cannot be stored: {exc}") from None
    except StoreUnavailable as exc:
        log.warning("push %s not stored (%s): 503, WeChat will retry", inbound.dedupe_key, exc)
        PUSHES.labels("unavailable").inc()
        return Response("temporarily unavailable", status=503, mimetype="text/plain")
    except Exception:  # nothing is known to be stored: let WeChat retry
        log.exception("unexpected error on push %s", inbound.dedupe_key)
        PUSHES.labels("error").inc()
        return Response("temporarily unavailable", status=503, mimetype="text/plain")
    PUSHES.labels("success" if reply == SUCCESS else "replied").inc()
    if reply == SUCCESS:
        return Response(SUCCESS, mimetype="text/plain")
    if crypto:
        reply = crypto.encrypt_message(reply, request.args.get("nonce", ""),
                                       request.args.get("timestamp"))
    return Response(reply, mimetype="application/xml")


def _crypto() -> WeChatCrypto | None:
    """Safe mode applies when the push says so; it needs the configured EncodingAESKey."""
    if request.args.get("encrypt_type", "raw").lower() != "aes":
        return None
    config = _services().config.wechat
    if not config.aes_key:
        raise WebhookError("encrypted push but no EncodingAESKey configured")
    return WeChatCrypto(config.token, config.aes_key, config.appid)


def _decrypt(crypto: WeChatCrypto, body: bytes) -> bytes:
    try:
        reject_declarations(body)
    except InboundError as exc:
        raise WebhookError(str(exc)) from None
    try:
        plain = crypto.decrypt_message(
            body.decode("utf-8"),
            request.args.get("msg_signature", ""),
            request.args.get("timestamp", ""),
            request.args.get("nonce", ""),
        )
    except InvalidSignatureException:
        raise ForbiddenError("invalid msg_signature") from None
    except Exception as exc:  # expat, base64, padding and appid errors all mean "not for us"
        raise WebhookError(f"cannot decrypt: {type(exc).__name__}") from None
    return plain.encode("utf-8") if isinstance(plain, str) else plain

