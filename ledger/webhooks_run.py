"""One pass of the webhook sender over every enabled webhook: what `custody webhook run` repeats.

Each webhook is its own follower of the log, so a receiver that is down holds back
only its own deliveries; the others go on. Webhooks added or disabled while the
sender runs are picked up at the next pass.
"""

from __future__ import annotations

from datetime import timedelta

from ledger.service import CustodyLedger
from ledger.webhooks import list_webhooks, sealed_secret
from ledger.webhooks_http import Post, post
from ledger.webhooks_secrets import open_secret
from ledger.webhooks_sender import Describe, Outcome, WebhookFollower


def deliver_all(ledger: CustodyLedger, describe: Describe, send: Post = post) -> list[Outcome]:
    """Deliver what is due now to every enabled webhook, in log order each; the outcomes of the attempts made."""
    give_up = timedelta(minutes=ledger.settings.webhook_give_up_minutes)
    outcomes: list[Outcome] = []
    for hook in list_webhooks(ledger.store):
        if not hook.enabled:
            continue
        key = open_secret(ledger.settings.home, hook.id, sealed_secret(ledger.store, hook.id))
        follower = WebhookFollower(ledger.store, hook, key, ledger.clock, give_up, describe, send)
        outcomes.extend(follower.deliver_due())
    return outcomes
