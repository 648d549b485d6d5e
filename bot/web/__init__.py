"""KS's workspace: server-rendered pages for staff and admins, served by the same aiohttp
app as the webhooks (docs/decisions/0015). Handlers translate HTTP into calls to
``services/`` and render the result; they hold no SQL and no business rule."""
