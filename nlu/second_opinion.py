"""An optional second opinion from an OpenAI-compatible chat endpoint (DeepSeek, Qwen, a
local server) for messages the classifier is unsure of.

Off unless `nlu.llm_url` is set. Strict JSON in and out, the same intent codes, a timeout
inside the reply budget; any failure (network, timeout, malformed reply, unknown code)
leaves the classifier's decision as it was. The classifier alone meets every figure.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from dataclasses import replace
from functools import cache

from core.yamlfile import load_yaml
from nlu.decision import Decision
from nlu.lexicon import DATA_DIR

log = logging.getLogger(__name__)

INTENTS = frozenset({
    "greet", "goodbye", "faq", "repair", "complaint", "suggestion", "service_request",
    "ticket_status", "bill_query", "bind_house", "human", "emergency", "out_of_scope",
})
# A report the engine sent to a ticket flow stays there, whatever the second opinion says.
_TICKETS = frozenset({"repair", "complaint", "suggestion", "service_request", "emergency"})
_DEAD_ENDS = frozenset({"faq", "out_of_scope", "greet", "goodbye"})


@cache
def _system_prompt() -> str:
    data = load_yaml(DATA_DIR / "second_opinion.yaml")
    return str(data["system"])


class SecondOpinion:
    """Asks the endpoint for one intent code; None when it cannot give a usable one."""

    def __init__(self, url: str, model: str, api_key: str = "", timeout: float = 1.5) -> None:
        self._url = url.rstrip("/") + "/chat/completions"
        self._model = model
        self._api_key = api_key
        self._timeout = timeout

    def intent(self, text: str) -> str | None:
        body = {
            "model": self._model,
            "temperature": 0,
            "response_format": {"type": "json_object"},
            "messages": [{"role": "system", "content": _system_prompt()},
                         {"role": "user", "content": text}],
        }
        headers = {"Content-Type": "application/json"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self._url, data=json.dumps(body).encode("utf-8"),
                                         headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                reply = json.loads(response.read().decode("utf-8"))
            content = reply["choices"][0]["message"]["content"]
            intent = json.loads(content)["intent"]
        except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError,
                TypeError) as error:
            log.warning("NLU second opinion unavailable: %s", error)
            return None
        return intent if isinstance(intent, str) and intent in INTENTS else None

    def review(self, decision: Decision) -> Decision:
        """The decision, with the endpoint's intent when the classifier was unsure.

        Never turns a ticket decision (a reported problem) into an answer or a refusal.
        """
        if not decision.is_unsure():
            return decision
        intent = self.intent(decision.text)
        if intent is None or intent == decision.intent:
            return decision
        if decision.intent in _TICKETS and intent in _DEAD_ENDS:
            return decision
        return replace(decision, intent=intent, confidence=decision.confidence_floor,
                       margin=0.0, faq_id=decision.faq_id if intent == "faq" else None,
                       margin_floor=0.0)
