"""通知公告: notices composed by admins, sent to bound residents as template messages."""
