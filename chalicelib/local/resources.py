"""Create the tables, bucket and queues of infra/resources.json on moto (or any endpoint).

The CloudFormation template is the single definition: this module translates its resources
into the equivalent boto3 calls, so the local stack and the tests run on the same shapes as
production.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib.aws.clients import client
from chalicelib.settings import settings

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "resources.json"
LOCAL_ACCOUNT = "123456789012"


def load_template() -> dict[str, Any]:
    return json.loads(TEMPLATE.read_text())


def _resolve(value: Any, params: dict[str, str], arns: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if "Fn::Sub" in value:
            text = value["Fn::Sub"]
            for name, replacement in params.items():
                text = text.replace("${" + name + "}", replacement)
            return text
        if "Fn::GetAtt" in value:
            logical, attr = value["Fn::GetAtt"]
            if attr != "Arn":
                raise ValueError(f"unsupported Fn::GetAtt {value}")
            return arns[logical]
        return {k: _resolve(v, params, arns) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, params, arns) for v in value]
    return value


def _create_table(props: dict[str, Any]) -> None:
    ddb = client("dynamodb")
    args = {k: props[k] for k in ("TableName", "AttributeDefinitions", "KeySchema", "BillingMode")}
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    # SSESpecification is left to AWS: locally it protects nothing, and moto makes a KMS key for it.
    ddb.create_table(**args)
    ttl = props.get("TimeToLiveSpecification")
    if ttl:
        ddb.update_time_to_live(TableName=args["TableName"], TimeToLiveSpecification=ttl)


def _create_bucket(props: dict[str, Any]) -> None:
    s3 = client("s3")
    name = settings().bucket  # production names carry the account id; locally the stage name
    region = s3.meta.region_name
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **location)
    s3.put_public_access_block(
        Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
    )
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [
                {"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"]}
                for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
            ]
        },
    )
    rules = []
    for rule in props["LifecycleConfiguration"]["Rules"]:
        api_rule: dict[str, Any] = {
            "ID": rule["Id"],
            "Status": rule["Status"],
            "Filter": {"Prefix": rule.get("Prefix", "")},
        }
        if "ExpirationInDays" in rule:
            api_rule["Expiration"] = {"Days": rule["ExpirationInDays"]}
        if "AbortIncompleteMultipartUpload" in rule:
            api_rule["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
        rules.append(api_rule)
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})


def _create_queue(props: dict[str, Any]) -> str:
    sqs = client("sqs")
    attributes: dict[str, str] = {}
    for key in ("VisibilityTimeout", "MessageRetentionPeriod"):
        if key in props:
            attributes[key] = str(props[key])
    if "RedrivePolicy" in props:
        attributes["RedrivePolicy"] = json.dumps(props["RedrivePolicy"])
    url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


LOCAL_KINDS = ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SQS::Queue")  # alarms, topics: AWS only


def create_all(stage: str | None = None, kinds: tuple[str, ...] = LOCAL_KINDS) -> None:
    """Create every table, bucket and queue the template defines (or those of `kinds`)."""
    params = {"Stage": stage or settings().stage, "AWS::AccountId": LOCAL_ACCOUNT}
    arns: dict[str, str] = {}
    pending = {name: res for name, res in load_template()["Resources"].items() if res.get("Type") in kinds}
    while pending:  # queues referenced by Fn::GetAtt are created before their users
        progressed = False
        for name, res in list(pending.items()):
            try:
                props = _resolve(res.get("Properties", {}), params, arns)
            except KeyError:
                continue
            kind = res["Type"]
            if kind == "AWS::DynamoDB::Table":
                _create_table(props)
            elif kind == "AWS::S3::Bucket":
                _create_bucket(props)
            elif kind == "AWS::SQS::Queue":
                arns[name] = _create_queue(props)
            del pending[name]
            progressed = True
        if not progressed:
            raise ValueError(f"unresolvable resources: {sorted(pending)}")
