"""Validated references to member states (ISO3 codes) and blocs inside scenario files (defined in
:mod:`unsim.fields`, which the strategies share)."""

from unsim.fields import ActorRef, StateRef, check_actor, check_state

__all__ = ["ActorRef", "StateRef", "check_actor", "check_state"]
