"""The admins' knowledge loop: feedback on answers, the unanswered queue, hit test,
retraining and the welcome card. Imports nlu/knowledge_base/core, never bot/admin/Flask."""
