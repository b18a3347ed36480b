"""Tickets from chat to callback: forms, dispatch rules, life cycle, bindings and bills."""
