"""账单查询: what a bound household owes and how to pay; nothing for an unbound user."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from handlers.base import BaseAction
from handlers.tickets.households import Households


class BillQueryAction(BaseAction):
    action_name = "action_bill_query"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        homes = Households(self.deps.sessions)
        rooms = homes.rooms(tracker.sender_id)
        if not rooms:
            self.say(dispatcher, "bills_unbound")
            return []
        lines = []
        for room in rooms:
            unpaid = [b for b in homes.bills(room) if not b.paid]
            if not unpaid:
                lines.append(self.deps.texts("bills_clear", room=room.display))
                continue
            total = sum((b.amount for b in unpaid), Decimal("0"))
            lines.append(self.deps.texts("bills_owed", room=room.display, total=f"{total:.2f}"))
            lines += [self.deps.texts("bills_line", period=b.period, item=b.item,
                                      amount=f"{b.amount:.2f}",
                                      due=b.due_date.isoformat() if b.due_date else "—")
                      for b in unpaid]
        lines.append(self.deps.texts("bills_how_to_pay"))
        dispatcher.utter_message(text="\n".join(lines))
        return []
