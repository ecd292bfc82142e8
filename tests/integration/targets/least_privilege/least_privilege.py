"""The documented IAM policies are enough, and each action in them is needed: moto with auth enforcement on.

Usage: DOCS_DIR=... python least_privilege.py INTEGRATION_CONFIG WORK_DIR [ansible-playbook verbosity...]

With enforcement off, the stub is seeded with an admin user (Action "*"),
the rotator user holding only the actions of docs/iam-policy.json, users to
rotate, and in account 222222222222 a role ``rotator-secrets-writer`` with
docs/iam-policy-secrets-account.json.  moto's policies only match
``Resource: "*"`` (tests/../TESTING-NOTES), so the policies are loaded with
their actions and ``Resource: "*"``; resource scoping and conditions are not
tested here.  Then ``POST /moto-api/reset-auth 0`` on moto itself turns
enforcement on, and, as the rotator:

* the full flow works: user selection (path, group, tags) with
  iam_rotation_info, access keys (create, store, verify, deactivate, delete)
  into Secrets Manager and SSM of the account and into Secrets Manager of the
  central account through the role, console passwords (policy, credential
  report, pending secret, UpdateLoginProfile, promote, record);
* every call the rotator made is an action of the policy it holds (from the
  stub's log of calls by signing key);
* a principal lacking one action fails clearly (the message names the
  action), and leaves the user safe (old key Active, destination working).

Enforcement is turned off again in any case (``reset-auth inf``).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "setup_fault_driver" / "files"))
from faultlib import ACCOUNT, Destination, FaultTally, Rig  # noqa: E402

CENTRAL = "222222222222"
WRITER_ROLE = "arn:aws:iam::%s:role/rotator-secrets-writer" % CENTRAL
# The same role without secretsmanager:PutSecretValue, to show the central account's policy is enforced.
WRITER_ROLE_MINUS = WRITER_ROLE + "-minus"
INCIDENT = {"force": True, "deactivate_after_days": 0, "delete_after_days": 0, "in_use_guard": False}
# The actions each flow cannot do without (removing one must fail the flow): flow -> actions.
NEGATIVE = {
    "access_key": ["iam:ListAccessKeys", "iam:GetAccessKeyLastUsed", "iam:ListUserTags", "iam:TagUser",
                   "iam:CreateAccessKey", "iam:UpdateAccessKey", "iam:DeleteAccessKey",
                   "secretsmanager:PutSecretValue", "secretsmanager:CreateSecret", "secretsmanager:GetSecretValue"],
    "password": ["iam:GetLoginProfile", "iam:UpdateLoginProfile", "iam:GetAccountPasswordPolicy",
                 "secretsmanager:DescribeSecret", "secretsmanager:UpdateSecretVersionStage"],
}
# Where a flow stops without the action, so the exact state it leaves: access keys -> (keys, destination),
# "old"/"new" standing for the user's old key and the key the run created; passwords -> what IAM holds
# ("seed": the seeded password, the destination's current value being absent; "pending": the destination's
# pending value, kept because the password was set and the run stopped before promoting it; "current": the
# destination's current value).
EXPECTED_WITHOUT = {
    "iam:ListAccessKeys": ({"old": "Active"}, None),
    "iam:GetAccessKeyLastUsed": ({"old": "Active"}, None),
    "iam:ListUserTags": ({"old": "Active"}, None),
    "iam:TagUser": ({"old": "Active"}, None),
    "iam:CreateAccessKey": ({"old": "Active"}, None),
    "secretsmanager:PutSecretValue": ({"old": "Active"}, None),
    "secretsmanager:CreateSecret": ({"old": "Active"}, None),
    "secretsmanager:GetSecretValue": ({"old": "Active"}, None),
    "iam:UpdateAccessKey": ({"old": "Active", "new": "Active"}, "new"),
    "iam:DeleteAccessKey": ({"old": "Inactive", "new": "Active"}, "new"),
    "iam:GetLoginProfile": "seed",
    "iam:UpdateLoginProfile": "seed",
    "iam:GetAccountPasswordPolicy": "seed",
    # The store looks at the secret's labels before it writes (to put them back on failure): nothing changes.
    "secretsmanager:DescribeSecret": "seed",
    # The secret is new, so its first version is current as well as pending: the password set is the current one.
    "secretsmanager:UpdateSecretVersionStage": "current",
}
# Service prefixes of the stub's action names, for matching calls against policy actions.
SERVICE_OF = {"GetCallerIdentity": "sts", "AssumeRole": "sts"}


def policy_actions(path):
    document = json.loads(Path(path).read_text())
    actions = []
    for statement in document["Statement"]:
        assert statement["Effect"] == "Allow"
        actions.extend(statement["Action"])
    return sorted(set(actions))


def moto_policy(actions):
    """The policy as moto can evaluate it: the same actions, on every resource."""
    return json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})


def service_of(action, call):
    if action in SERVICE_OF:
        return SERVICE_OF[action]
    if action in ("CreateSecret", "PutSecretValue", "GetSecretValue", "DescribeSecret", "UpdateSecretVersionStage",
                  "DeleteSecret"):
        return "secretsmanager"
    if action in ("PutParameter", "GetParameter", "DeleteParameter"):
        return "ssm"
    return "iam"


class Enforcement:
    """moto's auth enforcement, on moto's own URL (the proxy does not relay /moto-api/)."""

    def __init__(self, rig):
        self.url = rig.moto_url() + "/moto-api/reset-auth"

    def set(self, value):
        request = urllib.request.Request(self.url, data=value.encode(), method="POST",
                                         headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


class LeastPrivilege:
    def __init__(self, rig, docs):
        self.rig = rig
        self.member_actions = policy_actions(Path(docs) / "iam-policy.json")
        self.central_actions = policy_actions(Path(docs) / "iam-policy-secrets-account.json")
        self.keys = {}
        self.tally = FaultTally("missing-permission")

    def principal(self, name, actions, iam=None):
        iam = iam or self.rig.client("iam")
        iam.create_user(UserName=name)
        iam.put_user_policy(UserName=name, PolicyName="rotator", PolicyDocument=moto_policy(actions))
        key = iam.create_access_key(UserName=name)["AccessKey"]
        self.keys[name] = (key["AccessKeyId"], key["SecretAccessKey"])
        return self.keys[name]

    def seed(self):
        rig = self.rig
        rig.reset()
        iam = rig.client("iam")
        self.principal("lp-admin", ["*"], iam)
        self.principal("lp-rotator", self.member_actions, iam)
        iam.create_group(GroupName="lp-rotated")
        for user, path in (("lp-app", "/service/"), ("lp-ssm", "/service/"), ("lp-central", "/service/")):
            iam.create_user(UserName=user, Path=path, Tags=[{"Key": "rotate", "Value": "yes"}])
            iam.create_access_key(UserName=user)
            iam.add_user_to_group(GroupName="lp-rotated", UserName=user)
        iam.create_user(UserName="lp-human")
        iam.create_login_profile(UserName="lp-human", Password="Lp-Human-Seed-Pass!1")
        central = rig.client("iam", *self.assumed(rig.client("sts"), "arn:aws:iam::%s:role/bootstrap" % CENTRAL))
        central.create_role(RoleName="rotator-secrets-writer", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}}]}))
        for role, actions in (("rotator-secrets-writer", self.central_actions),
                              ("rotator-secrets-writer-minus",
                               [a for a in self.central_actions if a != "secretsmanager:PutSecretValue"])):
            if role.endswith("-minus"):
                central.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps({
                    "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                            "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}}]}))
            central.put_role_policy(RoleName=role, PolicyName="secrets", PolicyDocument=moto_policy(actions))

    @staticmethod
    def assumed(sts, role_arn):
        creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="lp")["Credentials"]
        return creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]

    def run(self, name, principal, module, args, reruns=0):
        key, secret = self.keys[principal]
        rc, results = self.rig.run(name, {"module": module, "rotate_args": args, "reruns": reruns}, key, secret)
        return (results or {}).get("rotation") or {}

    def stored_key_works(self, user, name, region=None, ssm=False, role=None):
        rig = self.rig
        session = self.assumed(rig.client("sts"), role) if role else (None, None, None)
        if ssm:
            value = rig.client("ssm", *session[:2], token=session[2]).get_parameter(
                Name=name, WithDecryption=True)["Parameter"]["Value"]
            document = json.loads(value)
            rig.read_back.add(document["SecretAccessKey"])
        else:
            document = rig.read_secret(name, sm=rig.client("secretsmanager", *session[:2], token=session[2]))
        keys = rig.keys(user)
        arn = rig.caller_arn(document["AccessKeyId"], document["SecretAccessKey"])
        works = ":user/" in arn and arn.endswith("/" + user) and keys == [{"id": document["AccessKeyId"], "status": "Active"}]
        rig.check(works, "%s: the stored key %s authenticates as %s; keys %s" % (user, document["AccessKeyId"], arn, keys))
        return works

    def full_flow(self):
        rig = self.rig
        results = {}
        selection = {"path_prefix": "/service/", "groups": ["lp-rotated"], "tags": {"rotate": "yes"}}
        info = self.run("info", "lp-rotator", "info", selection)
        results["info"] = not info.get("failed")
        rig.check(results["info"], "iam_rotation_info with the documented policy failed: %s" % info.get("msg"))
        for label, user, secret, check in (
                ("secretsmanager", "lp-app", {"type": "secretsmanager"},
                 {"name": "rotator/%s/lp-app/access-key" % ACCOUNT}),
                ("ssm", "lp-ssm", {"type": "ssm"}, {"name": "/rotator/%s/lp-ssm/access-key" % ACCOUNT, "ssm": True}),
                ("central secrets account", "lp-central",
                 {"type": "secretsmanager", "assume_role_arn": WRITER_ROLE},
                 {"name": "rotator/%s/lp-central/access-key" % ACCOUNT, "role": WRITER_ROLE})):
            args = dict(INCIDENT, user_name=user, secret=secret)
            outcome = self.run("keys-%s" % user, "lp-rotator", "access_key", args)
            works = not outcome.get("failed") and self.stored_key_works(user, **check)
            results["access_keys_" + label.replace(" ", "_")] = works
            rig.check(works, "access key rotation into %s with the documented policy failed: %s"
                      % (label, outcome.get("msg")))
        outcome = self.run("password", "lp-rotator", "password", {"user_name": "lp-human", "force": True})
        document = rig.read_secret("rotator/%s/lp-human/console-password" % ACCOUNT) or {}
        results["password"] = not outcome.get("failed") and rig.login_matches("lp-human", document.get("Password"))
        rig.check(results["password"], "password rotation with the documented policy failed: %s" % outcome.get("msg"))
        return results

    def actions_called(self):
        """The policy actions the rotator's calls needed, from the stub's log (by signing key)."""
        rotator_key = self.keys["lp-rotator"][0]
        called = set()
        for call in self.rig.calls():
            if call.get("signer") == rotator_key:
                called.add("%s:%s" % (service_of(call["action"], call), call["action"]))
        return called

    def check_access_keys(self, action, user, old):
        """The exact keys and destination the missing action leaves (EXPECTED_WITHOUT)."""
        rig = self.rig
        keys = {key["id"]: key["status"] for key in rig.keys(user)}
        new = next((key for key in keys if key != old), None)
        names = {"old": old, "new": new}
        want_keys, want_stored = EXPECTED_WITHOUT[action]
        want_keys = {names[name]: status for name, status in want_keys.items()}
        stored = rig.read_secret("rotator/%s/%s/access-key" % (ACCOUNT, user)) or {}
        stored_id = stored.get("AccessKeyId")
        works = stored_id is None or rig.caller_arn(stored_id, stored["SecretAccessKey"]).endswith(":user/" + user)
        rig.check(keys == want_keys and stored_id == names.get(want_stored) and works,
                  "without %s user %s has keys %s and the destination names %s (authenticates: %s); expected keys %s, "
                  "destination %s" % (action, user, keys, stored_id, works, want_keys, want_stored))

    def check_password(self, action, user):
        """IAM holds exactly the password the missing action leaves it with (EXPECTED_WITHOUT)."""
        rig = self.rig
        name = "rotator/%s/%s/console-password" % (ACCOUNT, user)
        current = (rig.read_secret(name) or {}).get("Password")
        pending = (rig.read_secret(name, "AWSPENDING") or {}).get("Password")
        observed = {"seed": rig.login_matches(user, "Lp-Neg-Seed-Pass!2"),
                    "current": bool(current) and rig.login_matches(user, current),
                    "pending": bool(pending) and pending != current and rig.login_matches(user, pending)}
        want = {name: name == EXPECTED_WITHOUT[action] for name in observed}
        rig.check(observed == want, "without %s the password of %s: IAM holds %s, expected %s"
                  % (action, user, observed, want))

    def negative(self):
        rig = self.rig
        outcomes = {}
        for module, actions in NEGATIVE.items():
            for action in actions:
                name = "lp-minus-" + action.replace(":", "-").lower()
                user = "lp-t-" + action.split(":")[1].lower()
                self.principal(name, [a for a in self.member_actions if a != action])
                iam = rig.client("iam")
                iam.create_user(UserName=user)
                old = None
                if module == "access_key":
                    old = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
                    args = dict(INCIDENT, user_name=user)
                else:
                    iam.create_login_profile(UserName=user, Password="Lp-Neg-Seed-Pass!2")
                    args = {"user_name": user, "force": True}
                outcome = self.run(name, name, module, args)
                message = outcome.get("msg", "")
                clear = outcome.get("failed") and ("AccessDenied" in message or "not authorized" in message) \
                    and action in message
                rig.check(clear, "without %s the %s rotation did not fail clearly: %s"
                          % (action, module, message[:300] or "it succeeded"))
                self.tally.case()
                if module == "access_key":
                    self.check_access_keys(action, user, old)
                    self.tally.access_keys(rig, "without " + action, user, Destination(
                        rig, "secretsmanager", "rotator/%s/%s/access-key" % (ACCOUNT, user)), held={old},
                        end_of_case=True)
                else:
                    self.check_password(action, user)
                    self.tally.password(rig, "without " + action, user, Destination(
                        rig, "secretsmanager", "rotator/%s/%s/console-password" % (ACCOUNT, user)),
                        held={"Lp-Neg-Seed-Pass!2"})
                outcomes[action] = "fails clearly" if clear else "NOT CLEAR: " + message[:120]
                rig.stats["negative_cases"] += 1
        user = "lp-t-central"
        iam = rig.client("iam")
        iam.create_user(UserName=user)
        old = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
        outcome = self.run("central-minus", "lp-rotator", "access_key", dict(
            INCIDENT, user_name=user, secret={"type": "secretsmanager", "assume_role_arn": WRITER_ROLE_MINUS}))
        message = outcome.get("msg", "")
        clear = outcome.get("failed") and "secretsmanager:PutSecretValue" in message
        rig.check(clear, "a central secrets role without PutSecretValue did not fail clearly: %s" % message[:300])
        rig.check(rig.keys(user) == [{"id": old, "status": "Active"}],
                  "a failed write to the central account left %s with keys %s" % (user, rig.keys(user)))
        outcomes["central account role without secretsmanager:PutSecretValue"] = \
            "fails clearly" if clear else "NOT CLEAR: " + message[:120]
        rig.stats["negative_cases"] += 1
        return outcomes


def main():
    rig = Rig(sys.argv[1], sys.argv[2], sys.argv[3:])
    lp = LeastPrivilege(rig, os.environ["DOCS_DIR"])
    enforcement = Enforcement(rig)
    summary = {"member_policy_actions": len(lp.member_actions), "central_policy_actions": len(lp.central_actions)}
    lp.seed()
    rig.calls_reset()
    try:
        enforcement.set("0")
        rig.admin = lp.keys["lp-admin"]
        # the harness's own credentials are no IAM user: with enforcement on they must be refused
        refused = rig.caller_arn(rig.config["aws_access_key"], rig.config["aws_secret_key"])
        rig.check(refused.startswith("error"), "auth enforcement is not on: the harness key authenticates as %s" % refused)
        summary["full_flow"] = lp.full_flow()
        called = lp.actions_called()
        outside = sorted(called - set(lp.member_actions) - {"sts:AssumeRole"} - {
            "secretsmanager:" + a.split(":")[1] for a in lp.central_actions if a.startswith("secretsmanager:")})
        rig.check(not outside, "the rotator called actions outside its policy: %s" % outside)
        summary["actions_called"] = sorted(called)
        summary["policy_actions_not_exercised"] = sorted(set(lp.member_actions) - called)
        summary["negative"] = lp.negative()
    finally:
        enforcement.set("inf")
        rig.admin = (rig.config["aws_access_key"], rig.config["aws_secret_key"])
    rig.reset()
    rig.conclude([lp.tally], summary)


if __name__ == "__main__":
    main()
