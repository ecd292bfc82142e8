# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # How every module of the collection connects to AWS: amazon.aws's option names, aliases and environment
    # variables (its doc fragments common and region), plus the assumed role and retry settings.
    DOCUMENTATION = r"""
options:
  access_key:
    description:
      - AWS access key ID.
      - If not set, the environment variables E(AWS_ACCESS_KEY_ID), E(AWS_ACCESS_KEY) or E(EC2_ACCESS_KEY) are used.
      - With neither keys nor O(profile), boto3's default credential chain is used
        (environment, SSO, web identity, ECS task role, EC2 instance role).
      - Mutually exclusive with O(profile).
    type: str
    aliases: [aws_access_key_id, aws_access_key, ec2_access_key]
  secret_key:
    description:
      - AWS secret access key.
      - If not set, the environment variables E(AWS_SECRET_ACCESS_KEY), E(AWS_SECRET_KEY) or E(EC2_SECRET_KEY) are used.
    type: str
    aliases: [aws_secret_access_key, aws_secret_key, ec2_secret_key]
  session_token:
    description:
      - AWS STS session token for temporary credentials.
      - If not set, the environment variables E(AWS_SESSION_TOKEN), E(AWS_SECURITY_TOKEN) (set by AWX)
        or E(EC2_SECURITY_TOKEN) are used.
    type: str
    aliases: [aws_session_token, security_token, aws_security_token, access_token]
  profile:
    description:
      - A named profile of the AWS configuration files.
      - If not set, the environment variables E(AWS_PROFILE) or E(AWS_DEFAULT_PROFILE) are used.
      - Mutually exclusive with O(access_key), O(secret_key) and O(session_token).
    type: str
    aliases: [aws_profile]
  region:
    description:
      - The AWS region of the API endpoints.
      - IAM and STS are global, so when neither this nor E(AWS_REGION), E(AWS_DEFAULT_REGION) or E(EC2_REGION)
        is set, C(us-east-1) is used.
    type: str
    aliases: [aws_region, ec2_region]
  endpoint_url:
    description:
      - Use a custom endpoint instead of the AWS service endpoints, for example a local test server.
      - If not set, the environment variables E(AWS_ENDPOINT_URL), E(AWS_URL) or E(EC2_URL) are used.
    type: str
    aliases: [aws_endpoint_url, ec2_url, s3_url]
  validate_certs:
    description:
      - When V(false), TLS certificates of the endpoints are not validated.
    type: bool
    default: true
  aws_ca_bundle:
    description:
      - A CA bundle to validate TLS certificates with.
      - If not set, the environment variable E(AWS_CA_BUNDLE) is used.
    type: path
  aws_config:
    description:
      - Parameters of botocore's C(Config) for every client the module makes, as amazon.aws's option of this
        name takes them, for example C(connect_timeout), C(read_timeout), C(proxies), C(user_agent_extra) or
        C(max_pool_connections).
      - Retries stay on. C(retries) here replaces O(retry_mode) and O(max_attempts) key by key (its C(mode), its
        C(max_attempts) or C(total_max_attempts)); calls that must not be repeated blindly (C(CreateAccessKey))
        are still made once, and the check of a new key still tries twice.
      - C(user_agent_extra) is added after C(rotator.aws_iam), which every request names.
      - A parameter botocore does not know fails the module before any call.
      - When C(aws_config) comes from C(module_defaults) of C(group/amazon.aws.aws) or C(group/aws), its C(retries)
        yield to the task's own O(retry_mode) and O(max_attempts).
      - A password in a proxy address (C(http://user:password@proxy)) is masked in the result and in verbose output.
      - See U(https://botocore.amazonaws.com/v1/documentation/api/latest/reference/config.html).
    type: dict
  assume_role_arn:
    description:
      - The ARN of a role to assume with the credentials above; all calls are then made as that role.
      - Usually the rotation role of the account the inventory host stands for.
      - The role is assumed before the first call, and a refusal fails the module at once. Its credentials are
        renewed with the same request (role, external ID, session name, duration) before they expire, so a run may
        last longer than O(assume_role_duration_seconds); if the renewal is refused, the calls that needed it fail
        with a message naming the role.
    type: str
  assume_role_external_id:
    description:
      - The external ID the role's trust policy requires.
    type: str
  assume_role_session_name:
    description:
      - The session name of the assumed role, shown in CloudTrail.
    type: str
    default: rotator-aws-iam
  assume_role_duration_seconds:
    description:
      - How long the assumed role's credentials last, from 900 to 43200 seconds.
      - When the credentials used to assume it are themselves a role's (role chaining), AWS allows at most 3600.
      - Credentials are renewed 15 minutes before they expire, or with a third of their life left when they last
        less than 45 minutes.
    type: int
    default: 3600
  retry_mode:
    description:
      - The botocore retry mode for throttling and transient errors.
      - This option and O(max_attempts) are this collection's own; amazon.aws sets retries in O(aws_config).
      - If not set, the environment variable E(AWS_RETRY_MODE) is used, else V(standard).
    type: str
    choices: [standard, adaptive]
  max_attempts:
    description:
      - The most attempts of one API call, the first included.
      - If not set, the environment variable E(AWS_MAX_ATTEMPTS) is used, else V(10).
    type: int
notes:
  - "For the modules, the connection options may be set once for amazon.aws's modules and these with
    C(module_defaults) and C(group/amazon.aws.aws) or C(group/aws): the modules' action plugins take amazon.aws's
    options from those groups when neither the task nor this collection's own C(module_defaults) set them.
    C(group/rotator.aws_iam.aws) holds these modules and amazon.aws's."
requirements:
  - python >= 3.9
  - boto3 >= 1.34.0
  - botocore >= 1.34.0
"""
