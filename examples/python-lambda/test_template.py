"""Checks the template `cdk synth` wrote for this Python app against the TypeScript example's.

Run after synthesizing both apps (scripts/check-languages.sh does all of it):

    (cd examples/lambda && npx cdk synth -q)            # TypeScript: examples/lambda/cdk.out
    (cd examples/python-lambda && npx cdk synth -q)     # Python, with restate-cloud-cdk installed
    python -m pytest examples/python-lambda

Asserted: the same resource types (and logical ids), the invoker role's trust policy statement
by statement (exactly the one Restate Cloud documents), and the registration's properties; asset
hashes and paths may differ.
"""
import json
import os
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
STACK = "RestateLambdaExample"
PY_TEMPLATE = Path(os.environ.get("PY_TEMPLATE", HERE / "cdk.out" / f"{STACK}.template.json"))
TS_TEMPLATE = Path(os.environ.get("TS_TEMPLATE", HERE.parent / "lambda" / "cdk.out" / f"{STACK}.template.json"))

ENVIRONMENT_ID = "env_201hy10cd3h6426jy80tb32n6en"
RESTATE_PRINCIPAL = {"AWS": "arn:aws:iam::654654156625:root"}


def load(path: Path) -> dict:
    if not path.exists():
        pytest.fail(f"{path} is missing: synthesize the app first (bash scripts/check-languages.sh python)")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def py() -> dict:
    return load(PY_TEMPLATE)


@pytest.fixture(scope="module")
def ts() -> dict:
    return load(TS_TEMPLATE)


def of_type(template: dict, type_: str) -> dict:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


def the_one(template: dict, type_: str) -> tuple:
    found = of_type(template, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def invoker_role(template: dict) -> dict:
    registration = the_one(template, "Custom::RestateDeployment")[1]
    role_id = registration["Properties"]["AssumeRoleArn"]["Fn::GetAtt"][0]
    return template["Resources"][role_id]


def strip_assets(value):
    """The template without what depends on asset hashes and paths."""
    if isinstance(value, dict):
        return {
            k: strip_assets(v)
            for k, v in value.items()
            if k not in ("S3Key", "aws:asset:path", "aws:asset:is-bundled", "aws:asset:property")
        }
    if isinstance(value, list):
        return [strip_assets(v) for v in value]
    return value


def test_same_resource_types(py, ts):
    types = lambda t: sorted((k, v["Type"]) for k, v in t["Resources"].items())  # noqa: E731
    assert types(py) == types(ts)


def test_invoker_role_trust_policy(py):
    document = invoker_role(py)["Properties"]["AssumeRolePolicyDocument"]
    assert document["Version"] == "2012-10-17"
    statements = document["Statement"]
    assert len(statements) == 2
    assume, tag = statements
    assert assume == {
        "Effect": "Allow",
        "Principal": RESTATE_PRINCIPAL,
        "Action": "sts:AssumeRole",
        "Condition": {
            "StringEquals": {
                "aws:PrincipalArn": "arn:aws:iam::654654156625:role/RestateCloud",
                "sts:ExternalId": ENVIRONMENT_ID,
            }
        },
    }
    assert tag == {"Effect": "Allow", "Principal": RESTATE_PRINCIPAL, "Action": "sts:TagSession"}


def test_invoker_role_same_as_typescript(py, ts):
    assert invoker_role(py) == invoker_role(ts)


def test_registration_properties(py):
    _, registration = the_one(py, "Custom::RestateDeployment")
    props = registration["Properties"]
    version_id, version = the_one(py, "AWS::Lambda::Version")
    permission_id, permission = the_one(py, "AWS::Lambda::Permission")
    role_id = props["AssumeRoleArn"]["Fn::GetAtt"][0]
    assert props["ServiceToken"]["Fn::GetAtt"][1] == "Arn"
    assert py["Resources"][props["ServiceToken"]["Fn::GetAtt"][0]]["Type"] == "AWS::Lambda::Function"
    assert props["AdminUrl"] == "https://201hy10cd3h6426jy80tb32n6en.env.us.restate.cloud:9070"
    assert props["LambdaArn"] == {"Ref": version_id}
    assert py["Resources"][role_id]["Type"] == "AWS::IAM::Role"
    assert props["ExpectedServices"] == ["Greeter"]
    assert props["Force"] == "false"
    assert props["Breaking"] == "false"
    assert props["RemovalPolicy"] == "retain"
    assert props["Owner"].startswith(f"{STACK}/Greeter/CurrentVersion/RestateRegistration")
    assert ":secret:restate/api-key" in json.dumps(props["AuthTokenSecretArn"])
    # The invoke grant: a resource policy statement on exactly this version, before registering.
    assert permission["Properties"]["Action"] == "lambda:InvokeFunction"
    assert permission["Properties"]["FunctionName"] == {"Ref": version_id}
    assert permission["Properties"]["Principal"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert registration["DependsOn"] == [permission_id]
    assert version["Properties"]["FunctionName"]["Ref"] in of_type(py, "AWS::Lambda::Function")


def test_registration_same_as_typescript(py, ts):
    assert the_one(py, "Custom::RestateDeployment") == the_one(ts, "Custom::RestateDeployment")
    assert the_one(py, "AWS::Lambda::Permission") == the_one(ts, "AWS::Lambda::Permission")


def test_same_template_apart_from_assets(py, ts):
    # CDKMetadata records the app's language and construct versions: it differs by design.
    resources = lambda t: {k: v for k, v in t["Resources"].items() if k != "CDKMetadata"}  # noqa: E731
    assert strip_assets(resources(py)) == strip_assets(resources(ts))
    assert py.get("Outputs") == ts.get("Outputs")
