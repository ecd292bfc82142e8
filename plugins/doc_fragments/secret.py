# -*- coding: utf-8 -*-
# Copyright: rotator.aws_iam contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # The secret destination of the rotating modules, as module_utils/_destinations/registry.py builds the option.
    # Ansible merges a fragment's option with the module's one level deep: a module that documents O(secret)
    # itself replaces the keys it gives (its description: what it stores, the default names for its kind of
    # secret) and keeps these suboptions, unless it gives suboptions of its own, which would replace them all.
    DOCUMENTATION = r"""
options:
  secret:
    description:
      - Where the new secret is stored.
      - In O(secret.name), O(secret.path) and O(secret.profile), C({user_name}) and C({account_id}) are replaced.
    type: dict
    default: {type: secretsmanager}
    suboptions:
      type:
        description:
          - V(secretsmanager) stores the secret as a JSON value in AWS Secrets Manager. A pending secret (a password
            not yet set in IAM) is the version labelled C(AWSPENDING) until it is promoted to C(AWSCURRENT).
          - V(ssm) stores the same JSON as an SSM Parameter Store C(SecureString). A pending secret is the parameter
            C(<name>-pending) until it is copied to C(<name>).
          - V(file) writes a local file with mode 0600 (O(secret.mode)), atomically. A pending secret is the file
            C(<path>.pending) until it is renamed over O(secret.path).
          - V(none) stores nothing; use O(return_secret) to pass the secret on.
        type: str
        choices: [secretsmanager, ssm, file, none]
        default: secretsmanager
      name:
        description:
          - Name of the secret or parameter.
          - Defaults to a name for the kind of secret the module rotates, given under O(secret).
          - AWS allows only letters, digits and C(/_+=.@-) in a Secrets Manager name and only letters, digits
            and C(_.-/) in an SSM parameter name (also for C(<name>-pending)). IAM user names may hold C(,), C(+),
            C(=) and C(@), so an expanded name can be one AWS refuses; such users are refused before anything
            changes, naming the user and the character. Names are not encoded, so consumers find them where
            the template says; choose a template without C({user_name}) characters AWS refuses, or other users.
          - Each user needs its own name (use C({user_name})); users whose names expand to one secret or
            parameter, or to another user's C(<name>-pending), are refused before anything changes.
        type: str
      kms_key_id:
        description:
          - KMS key to encrypt the secret or parameter with, instead of the AWS managed key.
        type: str
      region:
        description:
          - Region of the secret or parameter, when it differs from O(region).
        type: str
      assume_role_arn:
        description:
          - Role to assume for the secret or parameter, for a central secrets account.
          - Assumed with the credentials the module was given, not with O(assume_role_arn).
        type: str
      assume_role_external_id:
        description:
          - External ID for O(secret.assume_role_arn).
        type: str
      path:
        description:
          - Path of the file, for V(file). Its directory must exist.
          - Each user needs its own file (use C({user_name})), except distinct profiles of one credentials file;
            users that would share one are refused before anything changes.
        type: path
      format:
        description:
          - File format, for V(file). V(csv) is the AWS console's download, V(credentials) one profile
            of an AWS shared credentials file (other profiles are kept), V(json) as for Secrets Manager.
          - V(credentials) holds access keys only, not passwords.
          - Writes to one file are serialised, so any number of users may have profiles in one credentials file.
          - Defaults to V(json).
        type: str
        choices: [csv, credentials, json]
      profile:
        description:
          - Profile name for O(secret.format=credentials) (access keys only). Defaults to C({user_name}).
        type: str
      owner:
        description:
          - Owner to give the file, for V(file), as Ansible's file modules take it (a name or a uid).
          - Without it, an existing file keeps its owner and group (and SELinux context); a new one is the
            module user's.
          - Checked before any change; it must exist, and only root may give a file to another owner.
        type: str
      group:
        description:
          - Group to give the file, for V(file), as Ansible's file modules take it (a name or a gid).
        type: str
      mode:
        description:
          - Octal permissions of the file, for V(file), such as C('0640'). Defaults to C('0600').
          - The file is written to a temporary file and moved over the target with Ansible's C(atomic_move);
            a new file is never readable by others, not even for a moment.
        type: raw
"""
