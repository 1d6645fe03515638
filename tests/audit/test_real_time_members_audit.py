"""The audit on member accounts covered only by the organization trail: it says what it does not judge.

The audit reads real-time rules at chain sites only. A member's forwarding (its rules, role, and the
receiving bus's permission for it) is not read, and the scope's notes say so for each member; a member
without ``roleArn`` got no rules, and the note says its calls raise no real-time alert. No verdict passes them.
"""

from __future__ import annotations

from cis_monitoring.audit.real_time import member_notes, real_time_sites
from cis_monitoring.audit.scope import stack_scope
from cis_monitoring.spec import load_config
from tests.components.test_real_time_members import DATA, OWNER_BUS, PAYMENTS, _config


def test_each_member_gets_a_note_and_no_judged_place() -> None:
    config = load_config(_config({"regions": ["us-east-1", "eu-west-1"]}))
    notes = stack_scope(config).notes
    [forwarding] = [n for n in notes if PAYMENTS in n]
    assert OWNER_BUS in forwarding and "does not read those forwarding rules" in forwarding
    [nothing] = [n for n in notes if DATA in n]
    assert "has no roleArn" in nothing and "no real-time alert" in nothing
    assert not [key for key in real_time_sites(config) if key[0] in (PAYMENTS, DATA)]


def test_without_real_time_there_is_no_member_note() -> None:
    assert member_notes(load_config(_config(None))) == []
