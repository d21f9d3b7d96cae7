"""Signals for cross-domain reactions, so one domain never imports another's internals.

Receivers run inside the sender's transaction: they flush, never commit.
"""

from blinker import Namespace

_signals = Namespace()

#: sender=user, by=actor
user_created = _signals.signal("user-created")
#: sender=user, by=actor
user_deactivated = _signals.signal("user-deactivated")
#: sender=kept user, merged=the duplicate merged into it, by=actor. Domains move their rows here.
users_merged = _signals.signal("users-merged")
#: sender=membership, by=actor, change='added'|'removed'|'changed'
membership_changed = _signals.signal("membership-changed")
#: sender=certificate, by=actor. Sent when a certificate is issued (not for a duplicate of one already
#: issued): the portfolio adds an entry for it.
certificate_issued = _signals.signal("certificate-issued")
