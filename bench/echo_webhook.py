"""The floor to compare with: a bare wechatpy + Flask webhook that echoes each text.

Checks the signature and parses the push with wechatpy, answers a passive text
reply; no storage, no NLU. bench/webhook.py runs it under the same gunicorn
settings as the app (`gunicorn --chdir bench echo_webhook:app`).
"""

from __future__ import annotations

import os

from flask import Flask, Response, request
from wechatpy import parse_message
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.replies import create_reply
from wechatpy.utils import check_signature

TOKEN = os.environ.get("ECHO_TOKEN", "wuye-demo-token")
app = Flask(__name__)


@app.post("/wechat")
def receive() -> Response:
    try:
        check_signature(TOKEN, request.args.get("signature", ""),
                        request.args.get("timestamp", ""), request.args.get("nonce", ""))
    except InvalidSignatureException:
        return Response("forbidden", status=403)
    message = parse_message(request.get_data())
    reply = create_reply(getattr(message, "content", "success"), message)
    return Response(reply.render(), mimetype="application/xml")


@app.get("/readyz")
def ready() -> str:
    """bench/startup.py times both servers to their first 200 here."""
    return "ready"
