"""The support desk's job kinds and the rows their jobs point at (registered in ``wiring.ready()``)."""

from __future__ import annotations

DRAFT_JOB = "support.draft"
EMBED_JOB = "support.embed_article"
EMAIL_JOB = "support.reply_email"
MESSAGE_TARGET = "oscar_llm.message"
ARTICLE_TARGET = "oscar_llm.knowledgearticle"
