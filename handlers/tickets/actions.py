"""Every ticket, binding and bill action, built explicitly for the registry and action server."""

from __future__ import annotations

from rasa_sdk import Action

from handlers.bills import BillQueryAction
from handlers.binding import BindHouseAction, SubmitBindingAction
from handlers.deps import HandlerDeps
from handlers.tickets.anger import AngerAction
from handlers.tickets.emergency import EmergencyAction, EmergencyWhereAction
from handlers.tickets.follow_up import ReopenAction, UrgeAction
from handlers.tickets.forms import form_specs
from handlers.tickets.loop import FormLoop
from handlers.tickets.status import TicketStatusAction
from handlers.tickets.submit import SubmitTicketAction
from handlers.tickets.switch import ResumeFormAction
from handlers.tickets.validation import VALIDATORS, TicketFormValidation


def build_validators(deps: HandlerDeps) -> list[TicketFormValidation]:
    return [validator(deps) for validator in VALIDATORS]


def build_submits(deps: HandlerDeps) -> list[Action]:
    submits: list[Action] = [SubmitBindingAction(deps)]
    for spec in form_specs().values():
        if spec.ticket_type:
            submits.append(SubmitTicketAction(deps, spec.submit, spec.name, spec.ticket_type))
    return submits


def build_ticket_actions(deps: HandlerDeps) -> list[Action]:
    """Form loops, their validators and submits, and the single-step actions."""
    validators = {v.form: v for v in build_validators(deps)}
    loops: list[Action] = [FormLoop(deps, spec, validators[name])
                           for name, spec in form_specs().items()]
    return [
        *loops, *validators.values(), *build_submits(deps),
        EmergencyAction(deps), EmergencyWhereAction(deps), TicketStatusAction(deps),
        UrgeAction(deps), ReopenAction(deps), AngerAction(deps), ResumeFormAction(deps),
        BindHouseAction(deps), BillQueryAction(deps),
    ]
