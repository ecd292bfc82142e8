"""One lost-answer case of ``faults_lost_answers``, for the version matrix's smoke run.

Usage: python smoke_fault.py STATE_FILE WORK_DIR [ansible-playbook arguments...]

The case: an access key rotation (incident response: force, 0-day windows)
whose ``UpdateAccessKey`` answers are all lost after AWS deactivated the old
key.  The run must fail leaving exactly {new: Active, old: Inactive} with
the destination (a JSON file) naming the new key; a forced run then repairs
it (only a new stored key is left) and a scheduled run changes nothing.  The
case itself, its checks and the secret scan are those of
``tests/integration/targets/faults_lost_answers``; this only picks the case
and points the drivers' library at a stub this process did not start.
The extra arguments go to every ansible-playbook run (``-e rotator_in_process=false
-e ansible_python_interpreter=...`` runs the module out of process).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
TARGETS = REPO / "tests" / "integration" / "targets"
sys.path.insert(0, str(TARGETS / "faults_lost_answers"))
sys.path.insert(0, str(TARGETS / "setup_fault_driver" / "files"))
from faultlib import FaultTally, Rig, say  # noqa: E402  pylint: disable=wrong-import-position,import-error
from lost_answers import access_key_case  # noqa: E402  pylint: disable=wrong-import-position,import-error

sys.path.insert(0, str(REPO / "tests" / "support"))
import stubctl  # noqa: E402  pylint: disable=wrong-import-position,import-error

# The administrator the integration stage uses with the stub (any key works: moto's auth is off).
ADMIN_KEY = "AKIAROTATORTESTING01"
ADMIN_SECRET = "rotator-integration-admin-secret"
CASE = dict(action="UpdateAccessKey", kind="file", seeded=True, mode="all", expected="deactivated")


def rig_config(state_file, work):
    """The integration_config.yml the drivers read, for a stub already running."""
    config = {
        "aws_endpoint_url": stubctl.read_state(state_file)["endpoint_url"],
        "aws_access_key": ADMIN_KEY,
        "aws_secret_key": ADMIN_SECRET,
        "aws_region": "us-east-1",
        "stub_state_file": str(state_file),
        "stubctl": str(REPO / "tests" / "support" / "stubctl.py"),
    }
    path = Path(work) / "integration_config.yml"
    path.write_text(json.dumps(config, indent=2))
    return path


def main(state_file, work, playbook_args):
    Path(work).mkdir(parents=True, exist_ok=True)
    rig = Rig(str(rig_config(state_file, work)), work, playbook_args)
    tally = FaultTally("lost-answer-access-keys")
    outcome = access_key_case(rig, tally, CASE["action"], CASE["kind"], CASE["seeded"], CASE["mode"], CASE["expected"])
    say("%s: %s" % (outcome["case"], {k: v for k, v in outcome.items() if k != "case"}))
    rig.check(outcome["after_fault"] == CASE["expected"], "%s: the state after the fault was not %s"
              % (outcome["case"], CASE["expected"]))
    rig.check(outcome["repaired"] is True, "%s: the repair run did not repair it" % outcome["case"])
    rig.conclude([tally], {"case": outcome["case"], "after_fault": outcome["after_fault"],
                           "repaired": outcome["repaired"]})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
