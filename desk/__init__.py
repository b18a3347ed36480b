"""The service desk after the chat: departments and workers, dispatch, SLA watch,
callbacks (回访), quality review (质检) and the KPIs. Imports core (and communities) only,
so handlers/, admin/ and bot/ can all use it."""
