"""Case 18 (credential report): check mode calls no mutating API, GenerateCredentialReport included."""

from __future__ import annotations

from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.planner import RotationPolicy
from ansible_collections.rotator.aws_iam.plugins.module_utils._access_keys.executor import load_credential_report
from ansible_collections.rotator.aws_iam.plugins.module_utils._aws.iam import IAMGateway
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.planner import PasswordRotationPolicy
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.policy import policy_from_api
from ansible_collections.rotator.aws_iam.plugins.module_utils._passwords.executor import PasswordRotator, PasswordSpec
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.base import PASSWORD
from ansible_collections.rotator.aws_iam.plugins.module_utils._destinations.registry import SECRET_ARGSPEC, DestinationFactory

# Every IAM, Secrets Manager and SSM action that changes something which either flow could call.
MUTATING_ACTIONS = frozenset({
    "GenerateCredentialReport", "CreateAccessKey", "UpdateAccessKey", "DeleteAccessKey", "CreateLoginProfile",
    "UpdateLoginProfile", "DeleteLoginProfile", "TagUser", "UntagUser", "UpdateAccountPasswordPolicy",
    "CreateSecret", "PutSecretValue", "UpdateSecret", "UpdateSecretVersionStage", "DeleteSecret", "RestoreSecret",
    "PutParameter", "DeleteParameter", "DeleteParameters", "LabelParameterVersion",
})


def mutating(aws):
    return sorted({call["action"] for call in aws.calls()} & MUTATING_ACTIONS)


def test_password_check_mode_reads_no_report_it_would_have_to_generate(aws):
    for name in ("ann", "ben"):
        aws.user(name)
        aws.client("iam").create_login_profile(UserName=name, Password="First-Password-0123456789")
    connection = aws.connect()
    gateway = IAMGateway(connection.client("iam"))
    options = dict.fromkeys(SECRET_ARGSPEC)
    options["type"] = "secretsmanager"
    rotator = PasswordRotator(gateway, DestinationFactory(options, connection, aws.account, PASSWORD),
                              PasswordRotationPolicy(rotate_after_days=1),
                              PasswordSpec(policy_from_api(gateway.account_password_policy())), aws.account,
                              check_mode=True)
    aws.control("POST", "calls/reset")

    outcomes = [rotator.rotate_user(name) for name in ("ann", "ben")]

    assert mutating(aws) == []
    assert [call["action"] for call in aws.calls("GetCredentialReport")] == ["GetCredentialReport"]
    assert [(o.status, o.age_source) for o in outcomes] == [("compliant", "login_profile")] * 2
    assert outcomes[0].warnings == ["no credential report exists and check mode does not generate one; the password "
                                    "age comes from the login profile's creation"]


def test_access_key_check_mode_reads_only_an_existing_report(aws):
    aws.user("cat", keys=1)
    aws.user("dan", keys=1)
    gateway = IAMGateway(aws.connect().client("iam"))
    aws.control("POST", "calls/reset")

    report, warning = load_credential_report(gateway, RotationPolicy(), ["cat", "dan"], check_mode=True)

    assert mutating(aws) == []
    assert report is None
    assert warning == ("the credential report is not ready (check mode reads only an existing report, it does not "
                       "generate one); every user was looked at live")
